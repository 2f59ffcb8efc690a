# IRN on the demo: the demo's seeds (as pseudo_tiny-r18-gradcam_threshold_demo.py), the
# boundaries of the tiny IRNet trained by irnet_tiny-r18_60iter_demo.py (--cue-checkpoint),
# IRN's random walk (radius 5, beta 10, 2^8 steps, background 0.25).
_base_ = ['./pseudo_tiny-r18-gradcam_rbd-erasing_demo.py', '../_base_/models/irnet_tiny-r18.py']
refiner = dict(_delete_=True, type='RandomWalkRefiner', radius=5, beta=10.0, exp_times=8,
               bg_threshold=0.25, stride=4)
