# The demo's seeds as pseudo labels: the Grad-CAMs of the Xu demo config (same classifier,
# same split) at background threshold 0.15. No cue.
_base_ = ['./pseudo_tiny-r18-gradcam_rbd-erasing_demo.py']
refiner = dict(_delete_=True, type='ThresholdRefiner', bg_threshold=0.15)
