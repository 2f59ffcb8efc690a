# Pseudo labels for the CPU demo: Grad-CAM of the tiny classifier (layer4), the U²-Net-p
# trained on the demo's salient-object set (saliency_u2netp-64_200iter_demo.py) with the
# paper's erasing (0.7, 0.8), Algorithm 1 (0.2, 0.06). tools/demo.py sets the checkpoint.
_base_ = './pseudo_tiny-r18-gradcam_rbd-erasing_demo.py'
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
