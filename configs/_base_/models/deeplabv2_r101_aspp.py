# DeepLab-v2 (DeepLab-ASPP-L): dilated ResNet-101 (output stride 8) + ASPP-v2
# (four 3×3 branches, rates 6/12/18/24, summed), frozen BatchNorm.
# Single-scale by default; the paper's MSC model sets
#   model = dict(scales=(1.0, 0.75, 0.5))
# ImageNet init (torchvision, stride in the 3×3 conv: style='pytorch'). For the
# paper's COCO init convert deeplab-pytorch's weights with
# tools/convert_deeplabv2_coco_init.py and use type='CaffeResNet' (ceil-mode stem pool),
# style='caffe', init_cfg=None,
# load_from=<converted file> and the caffe preprocessing (BGR, mean only).
norm_cfg = dict(type='BN', requires_grad=False)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(321, 321))
model = dict(
    type='MSCDeepLabV2',
    data_preprocessor=data_preprocessor,
    scales=(1.0, ),
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(3, ),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        style='pytorch',
        norm_cfg=norm_cfg,
        norm_eval=True,
        # frozen BN: a zero-initialised last BN would keep its residual branch
        # dead forever when the model is not loaded from a checkpoint
        zero_init_residual=False,
        contract_dilation=False,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    decode_head=dict(
        type='ASPPv2Head',
        in_channels=2048,
        num_classes=21,
        dilations=(6, 12, 18, 24),
        align_corners=False),
    loss=dict(type='MaxFusionLoss', ignore_index=255, loss_weight=1.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
