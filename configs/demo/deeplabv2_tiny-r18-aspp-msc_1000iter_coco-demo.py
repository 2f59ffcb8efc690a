# The demo's tiny MSCDeepLabV2 (deeplabv2_tiny-r18-aspp-msc_1000iter_demo.py) with 81 outputs,
# trained on COCO-layout pseudo labels and evaluated on the converted val2014 masks.
_base_ = './deeplabv2_tiny-r18-aspp-msc_1000iter_demo.py'
data_root = 'work_dirs/demo_coco/data'
model = dict(decode_head=dict(num_classes=81))
_coco = dict(type='LabelMapDataset', image_level_dataset='COCOImageLevelDataset',
             data_root=data_root)
train_dataloader = dict(
    dataset=dict(_delete_=True, **_coco, ann_file='ImageSets/train2014.txt',
                 img_dir='train2014', label_dir='work_dirs/demo_coco/pseudo/pseudo_labels',
                 label_dir_in_data_root=False, pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, **_coco, ann_file='ImageSets/val2014.txt', img_dir='val2014',
                 label_dir='SegmentationClass', pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
