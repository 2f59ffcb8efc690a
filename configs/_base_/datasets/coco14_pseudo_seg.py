# Stage 4 data on COCO-2014: train2014 images with the pseudo labels of tools/gen_pseudo.py
# (never the GT masks); val2014 with the converted GT masks, mIoU over 81 label values.
# Pipelines, loaders and metric are VOC's (DeepLab-v2 augmentation: random scale 0.5-1.5,
# random crop 321, h-flip); only the datasets differ.
_base_ = ['./voc12aug_pseudo_seg.py']
data_root = 'data/coco2014'
pseudo_label_dir = 'work_dirs/pseudo_coco14/pseudo_labels'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LabelMapDataset',
        image_level_dataset='COCOImageLevelDataset',
        data_root=data_root,
        ann_file='ImageSets/train2014.txt',
        img_dir='train2014',
        label_dir=pseudo_label_dir,
        label_dir_in_data_root=False,
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LabelMapDataset',
        image_level_dataset='COCOImageLevelDataset',
        data_root=data_root,
        ann_file='ImageSets/val2014.txt',
        img_dir='val2014',
        label_dir='SegmentationClass',
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
