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
# Stages 1-3 (tools/gen_pseudo.py): the split to label, full images, never its masks
# (seg_map_path only lets --vis draw the GT next to the pseudo label).
pseudo_pipeline = [
    dict(type='LoadImageStrict'),
    dict(type='PackMultiLabelInputs'),
]
pseudo_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='ImageSets/SegmentationAug/train_aug.txt',
    label_source='xml',
    with_seg_map=True,
    # an image whose labels cannot be read is skipped/reported by gen_pseudo, not fatal
    skip_unlabeled=False,
    defer_label_errors=True,
    test_mode=True,
    pipeline=pseudo_pipeline)
# tools/eval_pseudo.py: seeds and pseudo labels are scored on VOC12 train (1,464 ids)
# against SegmentationClass, as IRN (step/eval_cam.py), SEAM and MCTformer report them;
# train_aug against SegmentationClassAug is the option --split train_aug.
pseudo_eval_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='ImageSets/Segmentation/train.txt',
    label_source='xml',
    with_seg_map=True,
    test_mode=True,
    data_prefix=dict(seg_map_path='SegmentationClass'))
# named evaluation splits of --split: (split file, GT folder)
pseudo_eval_splits = dict(
    train=('ImageSets/Segmentation/train.txt', 'SegmentationClass'),
    train_aug=('ImageSets/SegmentationAug/train_aug.txt', 'SegmentationClassAug'),
    val=('ImageSets/Segmentation/val.txt', 'SegmentationClass'))
