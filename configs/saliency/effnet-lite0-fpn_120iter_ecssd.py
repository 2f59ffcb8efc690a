# EfficientNet-Lite0 FPN saliency detector (EfficientNetLiteFPN: ImageNet encoder, strides
# 4/8/16/32, 64-channel decoder, deep supervision) trained on the 800 ECSSD training ids and
# evaluated on the 200 held-out ids: a detector trained on real salient objects within a CPU
# budget (2 cores, <= 30 min; on the shared, overloaded machine of its first run a process got
# ~0.15 core). The budget sets the choices: 160x160 inputs, the stem and stages 1-4 kept at
# their ImageNet weights (frozen_levels=5: no gradient through the high-resolution layers),
# stages 5-7 fine-tuned with their ImageNet BatchNorm statistics kept; Adam, decoder 1e-3,
# encoder a fifth of it; linear warm-up, then poly decay; batch 8, 120 iterations (1.2
# epochs). Inputs normalized as the ImageNet weights expect.
_base_ = './dhsnet_vgg16_20k_ecssd.py'
input_size = (160, 160)
iters = 120
model = dict(
    detector=dict(_delete_=True, type='EfficientNetLiteFPN', input_size=input_size[0],
                  encoder_levels=(2, 3, 5, 7), decoder_channels=64, pretrained=True,
                  frozen_levels=5),
    data_preprocessor=dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0],
                           size=input_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyAnnotations'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='LoadSaliencyAnnotations'),  # after Resize: scored at the full mask size
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3),
    paramwise_cfg=dict(custom_keys={'detector.encoder': dict(lr_mult=0.2)}))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=10),
    dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=10, end=iters),
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=iters))
