# The demo's tiny classifier (cls_tiny-r18-gap_1000iter_demo.py) with 80 outputs on data in
# the COCO-2014 layout of tools/convert_coco.py (a generated set in the tests). Override
# data_root with --cfg-options train_dataloader.dataset.data_root=... as for the VOC demo.
_base_ = './cls_tiny-r18-gap_1000iter_demo.py'
data_root = 'work_dirs/demo_coco/data'
model = dict(head=dict(num_classes=80))
_coco = dict(type='COCOImageLevelDataset', data_root=data_root, label_source='npy',
             label_file='cls_labels.npy')
train_dataloader = dict(
    dataset=dict(**_coco, ann_file='ImageSets/train2014.txt',
                 data_prefix=dict(img_path='train2014')))
val_dataloader = dict(
    dataset=dict(**_coco, ann_file='ImageSets/val2014.txt', data_prefix=dict(img_path='val2014')))
test_dataloader = val_dataloader
pseudo_dataset = dict(**_coco, ann_file='ImageSets/train2014.txt',
                      data_prefix=dict(img_path='train2014', seg_map_path='SegmentationClass'))
pseudo_eval_dataset = dict(**_coco, ann_file='ImageSets/train2014.txt',
                           data_prefix=dict(img_path='train2014',
                                            seg_map_path='SegmentationClass'))
pseudo_eval_splits = dict(
    _delete_=True,
    train=('ImageSets/train2014.txt', 'SegmentationClass'),
    val=('ImageSets/val2014.txt', 'SegmentationClass'))
