# The real-photo demo's seeds as pseudo labels: the Grad-CAMs of the EfficientNet-Lite0 demo
# config at background threshold 0.15. No cue.
_base_ = ['./pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py']
refiner = dict(_delete_=True, type='ThresholdRefiner', bg_threshold=0.15)
