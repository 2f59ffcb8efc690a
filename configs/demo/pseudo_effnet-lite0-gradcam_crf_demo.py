# The real-photo demo's seeds refined by DeepLab's dense CRF.
_base_ = ['./pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py']
refiner = dict(_delete_=True, type='CRFRefiner', bg_threshold=0.15, crf=dict(type='DenseCRF'))
