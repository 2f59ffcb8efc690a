# IRNet of IRN (Ahn et al., CVPR 2019; jiwoon-ahn/irn net/resnet50_irn.py, train_irn.py):
# frozen ImageNet ResNet-50 (output stride 16) feature pyramid + the class-boundary branch,
# trained by the affinity loss on pairs within radius 10 of the stride-4 grid, labelled from
# the seed CAMs of configs/irn/cls_r50-gap-os16_5e_voc12aug.py (confident foreground > 0.30,
# confident background < 0.05, each refined by IRN's dense CRF). Train on train_aug: random
# rescale 0.5-1.5, h-flip, random crop 512; batch 32, 3 epochs, lr 0.1, weight decay 1e-4,
# poly decay. Point train_dataloader.dataset.cam_dir at the stored seed CAMs.
_base_ = ['../_base_/default_runtime.py', '../_base_/pseudo/irn_random_walk.py']
crop_size = (512, 512)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    size=crop_size,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='IRNet',
    data_preprocessor=data_preprocessor,
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
    loss=dict(type='AffinityLoss', radius=10),
    stride=4)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRelationLabels', fg_threshold=0.30, bg_threshold=0.05, crf=True),
    # VOC images have a long side of 500: this rescales them by 0.5-1.5 (IRN rescale)
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=255)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RelationLabelDataset',
        data_root='data/VOCdevkit/VOC2012',
        ann_file='ImageSets/SegmentationAug/train_aug.txt',
        cam_dir='work_dirs/irn/cams',
        pipeline=train_pipeline))
# IRN's PolyOptimizer: plain SGD (see the classifier config), the boundary branch at lr 0.1
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=True)
