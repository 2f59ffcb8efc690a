# IRN's seeds refined by DeepLab's dense CRF (a baseline between the seeds and the random walk).
_base_ = ['./cls_r50-gap-os16_5e_voc12aug.py', '../_base_/pseudo/cam_crf.py']
