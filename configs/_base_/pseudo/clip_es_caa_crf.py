# CLIP-ES's pseudo masks (eval_cam_with_crf.py): CAA maps, background 1 - max, dense CRF
# (10 iterations, Gaussian sxy 1 / compat 3, bilateral sxy 67 / srgb 3 / compat 4 = the
# 'deeplab' preset), argmax; CRF probability below 0.95 -> 255 (ignored).
refiner = dict(
    type='ClipESCRFRefiner',
    crf=dict(type='DenseCRF', preset='deeplab'),
    confidence=0.95,
    caa=dict(type='CAARefiner', box_threshold=0.4, sinkhorn_rounds=3, power=2, bg_power=2.0))
