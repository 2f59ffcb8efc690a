# IRN on the real-photo demo with IRN's own IRNet recipe on the trunk the demo has ImageNet
# weights for: the EfficientNet-Lite0 Grad-CAM seeds, the boundaries of the IRNet on the frozen
# ImageNet EfficientNet-Lite0 (irnet_effnet-lite0_60iter_demo.py) trained on their relation
# labels (--cue-checkpoint), IRN's random walk. On the 73 real photos it scores below the tiny
# IRNet of pseudo_effnet-lite0-gradcam_irn_demo.py (docs/irn.md), so the demo keeps that one.
_base_ = [
    './pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py', '../_base_/models/irnet_effnet-lite0.py'
]
refiner = dict(_delete_=True, type='RandomWalkRefiner', radius=5, beta=10.0, exp_times=8,
               bg_threshold=0.25, stride=4)
