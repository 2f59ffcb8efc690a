# The demo's seeds (as pseudo_tiny-r18-gradcam_threshold_demo.py) refined by DeepLab's CRF.
_base_ = ['./pseudo_tiny-r18-gradcam_rbd-erasing_demo.py']
refiner = dict(_delete_=True, type='CRFRefiner', bg_threshold=0.15, crf=dict(type='DenseCRF'))
