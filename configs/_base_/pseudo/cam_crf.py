# CAM seeds refined by a dense CRF: the seed scores [0.15, CAMs] normalized per pixel are the
# unary; DeepLab's CRF (wsss_mm.postprocess.DenseCRF defaults: 10 iterations, Gaussian sxy 1 /
# compat 3, bilateral sxy 67 / srgb 3 / compat 4) moves the labels to colour edges.
refiner = dict(type='CRFRefiner', bg_threshold=0.15, crf=dict(type='DenseCRF'))
