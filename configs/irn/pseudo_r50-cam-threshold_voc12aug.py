# IRN's seeds as pseudo labels (the baseline IRN improves): the multi-scale CAMs of the IRN
# classifier at background threshold 0.15 (IRN: 48.3 mIoU on VOC12 train).
_base_ = ['./cls_r50-gap-os16_5e_voc12aug.py', '../_base_/pseudo/cam_threshold.py']
