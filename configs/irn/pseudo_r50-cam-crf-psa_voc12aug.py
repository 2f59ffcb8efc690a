# IRN's seeds refined by PSA's CRF convention (Ahn & Kwak, CVPR 2018; jiwoon-ahn/psa
# infer_cls.py _crf_with_alpha, tool/imutils.crf_inference): background score (1 - max CAM)^alpha,
# the scores [bg, CAMs] unnormalized into the unary -log, 10 iterations, Gaussian sxy 3 /
# compat 3, bilateral sxy 80 / srgb 13 / compat 10. PSA uses alpha 4 (its confident
# foreground, the "CRF seeds" row papers cite) and 32 (its confident background):
# --cfg-options refiner.alpha=32.
_base_ = ['./cls_r50-gap-os16_5e_voc12aug.py']
refiner = dict(type='CRFRefiner', background='psa', alpha=4.0,
               crf=dict(type='DenseCRF', preset='krahenbuhl2011', iterations=10))
