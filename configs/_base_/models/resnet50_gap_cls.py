# ResNet-50 + GAP + linear multi-label classifier (also gives classic CAM).
data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_value=0)
model = dict(
    type='MultiLabelClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    head=dict(type='GAPLinearHead', in_channels=2048, num_classes=20))
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone.layer4')
