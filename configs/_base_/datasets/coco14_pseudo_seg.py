# Stage 4 data on COCO-2014: train2014 images with the pseudo labels of tools/gen_pseudo.py
# (never the GT masks); val2014 with the converted GT masks, mIoU over 81 label values.
# DeepLab-v2 augmentation: random scale 0.5-1.5, random crop 321 (padded with 255), h-flip.
data_root = 'data/coco2014'
pseudo_label_dir = 'work_dirs/pseudo_coco14/pseudo_labels'
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
        type='LabelMapDataset',
        image_level_dataset='COCOImageLevelDataset',
        data_root=data_root,
        ann_file='ImageSets/train2014.txt',
        img_dir='train2014',
        label_dir=pseudo_label_dir,
        label_dir_in_data_root=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='LabelMapDataset',
        image_level_dataset='COCOImageLevelDataset',
        data_root=data_root,
        ann_file='ImageSets/val2014.txt',
        img_dir='val2014',
        label_dir='SegmentationClass',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
