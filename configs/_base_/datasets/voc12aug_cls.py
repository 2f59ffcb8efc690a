# PASCAL VOC 2012 + SBD (train_aug 10,582 / val 1,449) with image-level labels from
# Annotations/*.xml, for the stage-1 classifier (paper §3: random crop 224 + h-flip).
dataset_type = 'VOCImageLevelDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (224, 224)
# images smaller than the crop are padded with the mean pixel (DeepLab's padding; 0 would be
# a black border far from the data); the loaded images are BGR
mean_bgr = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img=mean_bgr, seg=255)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackMultiLabelInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackMultiLabelInputs'),
]
train_dataloader = dict(
    batch_size=30,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/SegmentationAug/train_aug.txt',
        label_source='xml',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Segmentation/val.txt',
        label_source='xml',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiLabelMetric')
test_evaluator = val_evaluator
