# IRN on real photos with the tiny IRNet: the EfficientNet-Lite0 Grad-CAM seeds, the boundaries
# of the tiny IRNet of irnet_tiny-r18_60iter_demo.py trained on their relation labels
# (--cue-checkpoint), IRN's random walk. Its boundaries are too weak to stop the walk on photos
# (it floods the background, docs/irn.md); the demo uses the EfficientNet-Lite0 IRNet
# (pseudo_effnet-lite0-gradcam_irn-effnet-lite0_demo.py).
_base_ = [
    './pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py', '../_base_/models/irnet_tiny-r18.py'
]
refiner = dict(_delete_=True, type='RandomWalkRefiner', radius=5, beta=10.0, exp_times=8,
               bg_threshold=0.25, stride=4)
