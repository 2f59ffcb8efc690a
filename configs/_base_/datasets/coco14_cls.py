# MS-COCO 2014 in the layout of tools/convert_coco.py under data_root (train2014/, val2014/,
# SegmentationClass/, cls_labels.npy, ImageSets/): the 82,081 train2014 / 40,137 val2014
# images with at least one label; image-level labels from cls_labels.npy; 80 classes, label
# values 1..80 in ascending category-id order. Everything else (classifier pipelines: random
# crop 224 padded with the mean pixel + h-flip; the pseudo-label pipeline; loaders) is VOC's;
# only the dataset, its folders and splits differ. Validation on the fixed 5,000-image val
# subset (tools/convert_coco.py --subset 5000).
_base_ = ['./voc12aug_cls.py']
dataset_type = 'COCOImageLevelDataset'
data_root = 'data/coco2014'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/train2014.txt',
        label_source='npy',
        data_prefix=dict(img_path='train2014')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/val2014_5000.txt',
        label_source='npy',
        data_prefix=dict(img_path='val2014')))
test_dataloader = val_dataloader
# Stages 1-3 (tools/gen_pseudo.py): train2014, full images
pseudo_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='ImageSets/train2014.txt',
    label_source='npy',
    data_prefix=dict(img_path='train2014'))
# tools/eval_pseudo.py: seeds and pseudo labels of train2014 against the converted masks
pseudo_eval_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='ImageSets/train2014.txt',
    label_source='npy',
    data_prefix=dict(img_path='train2014'))
pseudo_eval_splits = dict(
    _delete_=True,
    train=('ImageSets/train2014.txt', 'SegmentationClass'),
    val=('ImageSets/val2014.txt', 'SegmentationClass'),
    val_5000=('ImageSets/val2014_5000.txt', 'SegmentationClass'))
