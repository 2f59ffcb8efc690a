# The EfficientNet-Lite0 demo classifier with the U²-Net-p trained on the demo's
# salient-object set (tools/demo.py sets the checkpoint).
_base_ = './pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py'
saliency_generator = dict(
    detector=dict(
        _delete_=True,
        type='U2Net',
        variant='u2netp',
        input_size=64,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/demo/saliency/iter_200.pth',
            prefix='detector.')))
