# IRN on the real-photo demo: the EfficientNet-Lite0 Grad-CAM seeds, the boundaries of the
# IRNet on the frozen ImageNet EfficientNet-Lite0 trunk (irnet_effnet-lite0_60iter_demo.py)
# trained on their relation labels (--cue-checkpoint), IRN's random walk.
_base_ = [
    './pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py', '../_base_/models/irnet_effnet-lite0.py'
]
refiner = dict(_delete_=True, type='RandomWalkRefiner', radius=5, beta=10.0, exp_times=8,
               bg_threshold=0.25, stride=4)
