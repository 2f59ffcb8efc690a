# IRN stage 1 (Ahn et al., CVPR 2019; jiwoon-ahn/irn run_sample.py + net/resnet50_cam.py):
# ResNet-50 with output stride 16 (layer4 without stride), GAP + linear (1x1) classifier
# without bias, multi-label soft-margin loss. The stem, layer1 and layer2 are frozen (IRN
# detaches their output) and BatchNorm statistics stay fixed (IRN's FixedBatchNorm).
# Train on train_aug: long side resized to [320, 640], random crop 512, h-flip; batch 16,
# 5 epochs, lr 0.1 (classifier x10), weight decay 1e-4, poly decay (power 0.9).
_base_ = [
    '../_base_/models/resnet50_gap_cls.py', '../_base_/datasets/voc12aug_cls.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(strides=(1, 2, 2, 1), frozen_stages=2, norm_eval=True),
    head=dict(bias=False))
# Classic CAM of the classifier's weights on layer4, summed over scales 1.0/0.5/1.5/2.0 and
# their flips, normalized by the maximum (IRN make_cam.py). IRN evaluates these seeds with a
# background threshold of 0.15 (48.3 mIoU on VOC12 train). As IRN: each scale's input is the
# uint8 image resized by PIL bicubic (scale_resize; 'bilinear' resizes the normalized tensor),
# each map is upsampled to the size rounded up to a multiple of 16 and cropped
# (upsample_divisor=16; None stretches it to H x W).
cam_generator = dict(
    _delete_=True,
    type='CAMGenerator',
    target_layer='backbone.layer4',
    fc_layer='head.fc',
    scales=(1.0, 0.5, 1.5, 2.0),
    flip=True,
    scale_resize='pil_bicubic',
    upsample_divisor=16)
crop_size = (512, 512)
# IRN's random_crop pads a side shorter than the crop with the mean colour (0 after
# normalization) at a random offset: RandomPlacePad. The mmcv alternative pads at the bottom /
# right: dict(type='Pad', size=crop_size, pad_val=dict(img=mean_bgr, seg=255)).
mean_bgr = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # fitting into a random square of side 320..640 sets the long side to it (IRN resize_long)
    dict(type='RandomResize', scale=(640, 640), ratio_range=(0.5, 1.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomPlacePad', size=crop_size, img_pad_val=mean_bgr),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackMultiLabelInputs'),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
# IRN's PolyOptimizer passes weight_decay where torch.optim.SGD expects momentum, so its
# momentum is 1e-4, i.e. none; we write momentum=0.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=5, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2,
                    save_best='cls/mAP', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=True)
