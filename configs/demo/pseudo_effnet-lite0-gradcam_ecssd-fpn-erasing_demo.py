# The EfficientNet-Lite0 demo classifier with the EfficientNet-Lite0 FPN saliency detector
# trained on real salient objects (configs/saliency/effnet-lite0-fpn_480iter_ecssd.py, the
# 800 ECSSD training ids): the detector of the paper's premise, in Algorithm 1 on photos.
# Set its checkpoint with saliency_generator.detector.init_cfg.checkpoint=<work_dir>/iter_480.pth
# (tools/demo.py --sal-data / --sal-ckpt do).
_base_ = './pseudo_effnet-lite0-gradcam_effnet-fpn-erasing_demo.py'
saliency_generator = dict(
    detector=dict(
        input_size=160,
        frozen_levels=5,
        init_cfg=dict(checkpoint='work_dirs/ecssd_lite0/iter_480.pth')))
