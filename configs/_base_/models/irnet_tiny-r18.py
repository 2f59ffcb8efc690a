# A tiny IRNet for CPU runs on generated data: ResNet-18 (32 base channels, output stride 16)
# trained from scratch with its boundary head (freeze_backbone=False: no pretrained weights),
# affinity loss at radius 5. Defined as boundary_generator (see irnet_r50.py).
boundary_generator = dict(
    type='IRNet',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[128.0] * 3, std=[64.0] * 3,
                           bgr_to_rgb=True, size_divisor=16, seg_pad_val=255),
    backbone=dict(type='ResNet', depth=18, base_channels=32, stem_channels=32,
                  strides=(1, 2, 2, 1), out_indices=(0, 1, 2, 3)),
    boundary_head=dict(type='ClassBoundaryHead', in_channels=(32, 32, 64, 128, 256),
                       scale_factors=(1, 1, 2, 4, 4), channels=16, num_groups=4),
    loss=dict(type='AffinityLoss', radius=5),
    freeze_backbone=False,
    stride=4)
