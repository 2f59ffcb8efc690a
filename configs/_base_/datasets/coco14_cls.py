# MS-COCO 2014 in the layout of tools/convert_coco.py under data_root (train2014/, val2014/,
# SegmentationClass/, cls_labels.npy, ImageSets/): the 82,081 train2014 / 40,137 val2014
# images with at least one label; image-level labels from cls_labels.npy; 80 classes, label
# values 1..80 in ascending category-id order. Stage-1 classifier data as for VOC (random
# crop 224 + h-flip); validation on the fixed 5,000-image val subset (--subset 5000).
dataset_type = 'COCOImageLevelDataset'
data_root = 'data/coco2014'
crop_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=255)),
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
        ann_file='ImageSets/train2014.txt',
        data_prefix=dict(img_path='train2014'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/val2014_5000.txt',
        data_prefix=dict(img_path='val2014'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiLabelMetric')
test_evaluator = val_evaluator
# Stages 1-3 (tools/gen_pseudo.py): train2014, full images
pseudo_pipeline = [
    dict(type='LoadImageStrict'),
    dict(type='PackMultiLabelInputs'),
]
pseudo_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='ImageSets/train2014.txt',
    data_prefix=dict(img_path='train2014'),
    with_seg_map=True,
    # an image whose labels cannot be read is skipped/reported by gen_pseudo, not fatal
    skip_unlabeled=False,
    defer_label_errors=True,
    test_mode=True,
    pipeline=pseudo_pipeline)
# tools/eval_pseudo.py: seeds and pseudo labels of train2014 against the converted masks
pseudo_eval_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='ImageSets/train2014.txt',
    data_prefix=dict(img_path='train2014'),
    with_seg_map=True,
    test_mode=True)
pseudo_eval_splits = dict(
    train=('ImageSets/train2014.txt', 'SegmentationClass'),
    val=('ImageSets/val2014.txt', 'SegmentationClass'),
    val_5000=('ImageSets/val2014_5000.txt', 'SegmentationClass'))
