# Stage 4 data: VOC12 train_aug images with the pseudo labels of tools/gen_pseudo.py
# (never the GT masks); VOC12 val with GT masks for mIoU. DeepLab-v2 augmentation:
# random scale 0.5-1.5, random crop 321 (padded with 255 by the data preprocessor), h-flip.
data_root = 'data/VOCdevkit/VOC2012'
pseudo_label_dir = 'work_dirs/pseudo_voc12aug/pseudo_labels'
crop_size = (321, 321)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=10,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PseudoLabelVOCDataset',
        data_root=data_root,
        ann_file='ImageSets/SegmentationAug/train_aug.txt',
        pseudo_label_dir=pseudo_label_dir,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=data_root,
        ann_file='ImageSets/Segmentation/val.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
