# IRN on the real-photo demo with IRN's own IRNet recipe on the trunk the demo has ImageNet
# weights for: the EfficientNet-Lite0 Grad-CAM seeds, the boundaries of the IRNet on the frozen
# ImageNet EfficientNet-Lite0 (irnet_effnet-lite0_60iter_demo.py) trained on their relation
# labels (--cue-checkpoint), IRN's random walk. The real-photo demo's IRN (tools/demo.py
# --preset effnet): on the 217 MSRC train photos it beats its seeds (CAM @ 0.15) where the tiny
# IRNet floods the background (docs/irn.md, "IRN on real photos").
_base_ = [
    './pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py', '../_base_/models/irnet_effnet-lite0.py'
]
refiner = dict(_delete_=True, type='RandomWalkRefiner', radius=5, beta=10.0, exp_times=8,
               bg_threshold=0.25, stride=4)
