# IRNet of IRN (net/resnet50_irn.py): frozen ImageNet ResNet-50 (output stride 16) feature
# pyramid + class-boundary branch, affinity loss at radius 10 over IRN's pairs (pair_band='irn':
# sources not in the last 9 rows nor the 9 columns at either side; 'grid' pairs every pixel).
# At inference each image is padded with the mean colour to 512 x 512 as IRN's EdgeDisplacement
# (test_pad_size=512; None predicts at the image's own size). Defined as boundary_generator,
# the network of the 'boundary' cue of pseudo-label configs; the IRNet training config uses it
# as its model.
boundary_generator = dict(
    type='IRNet',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        size=(512, 512),
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    # frozen ImageNet ResNet-50, output stride 16 (IRN's net/resnet50_irn.py)
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 2, 1),
        out_indices=(0, 1, 2, 3),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    boundary_head=dict(
        type='ClassBoundaryHead',
        in_channels=(64, 256, 512, 1024, 2048),
        scale_factors=(1, 1, 2, 4, 4),
        channels=32,
        num_groups=4),
    loss=dict(type='AffinityLoss', radius=10, pair_band='irn'),
    test_pad_size=512,
    stride=4)
