# Stage 4 on real photos: DeepLab-v2 (ASPP-v2, single scale; set model.scales=(1.0, 0.75, 0.5)
# for MSC) on the ImageNet EfficientNet-Lite0 trunk, dilated to output stride 16 (the last
# stride-2 stage keeps stride 1, its depthwise convolutions dilate by 2; weights unchanged),
# BatchNorm frozen at the ImageNet statistics as in DeepLab. ASPP rates are DeepLab's
# (6, 12, 18, 24) at stride 8, halved for stride 16. The new head learns 10x faster than
# the trunk (DeepLab's multiplier for a pretrained trunk). Base lr 3e-4: at 1e-3 training on
# the real-photo pseudo labels collapsed to one class (val mIoU 1.96 and 0.80 in two runs; 3e-4:
# 8.71, 1e-4: 8.59; docs/pipeline.md). Used by
#   python tools/demo.py --preset effnet --data-root <VOCdevkit/VOC2012>
# Set the training labels with
#   --cfg-options train_dataloader.dataset.pseudo_label_dir=<gen_pseudo work dir>/pseudo_labels
# (or <data root>/SegmentationClass for the GT-trained upper bound).
_base_ = './deeplabv2_tiny-r18-aspp-msc_1000iter_demo.py'
crop_size = (256, 256)
short_side = 352
model = dict(
    scales=(1.0, ),
    data_preprocessor=dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0],
                           size=crop_size, pad_val=0),
    backbone=dict(_delete_=True, type='EfficientNetLite0', num_classes=None, pretrained=True,
                  output_stride=16, norm_eval=True),
    decode_head=dict(in_channels=1280, dilations=(3, 6, 9, 12)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(4096, short_side), ratio_range=(0.75, 1.25),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, short_side), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(lr=3e-4),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=0, end=300)]
train_cfg = dict(max_iters=300, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=300))
