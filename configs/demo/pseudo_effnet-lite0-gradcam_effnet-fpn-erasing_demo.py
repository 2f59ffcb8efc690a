# The EfficientNet-Lite0 demo classifier with the EfficientNet-Lite0 FPN saliency detector
# trained on the demo's salient-object set (saliency_effnet-lite0-fpn_300iter_demo.py); set
# its checkpoint with saliency_generator.detector.init_cfg.checkpoint=<work_dir>/iter_300.pth.
# The detector's inputs are normalized as its ImageNet encoder expects ((x - 127) / 128, RGB),
# so the erased pixels (0 after normalization) are mid-grey.
_base_ = './pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py'
saliency_generator = dict(
    detector=dict(
        _delete_=True,
        type='EfficientNetLiteFPN',
        input_size=192,
        encoder_levels=(2, 3, 5, 7),
        decoder_channels=64,
        pretrained=False,  # every weight comes from the trained checkpoint
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/demo/saliency/iter_300.pth',
            prefix='detector.')))
saliency_preprocessor = dict(type='ImgDataPreprocessor', mean=[127.0, 127.0, 127.0],
                             std=[128.0, 128.0, 128.0], bgr_to_rgb=True)
