# EfficientNet-Lite0 FPN saliency detector (EfficientNetLiteFPN: ImageNet encoder, strides
# 4/8/16/32, 64-channel decoder, deep supervision) trained on the 800 ECSSD training ids at
# 224x224 and evaluated on the 200 held-out ids: a detector trained on real salient objects
# that fits a CPU budget (2 cores, <= 30 min). Adam, decoder 1e-3, encoder a fifth of it with
# its ImageNet BatchNorm statistics kept; linear warm-up, then poly decay; batch 8
# (1200 iterations = 12 epochs). Inputs normalized as the ImageNet weights expect.
_base_ = './dhsnet_vgg16_20k_ecssd.py'
iters = 1200
model = dict(
    detector=dict(_delete_=True, type='EfficientNetLiteFPN', input_size=224,
                  encoder_levels=(2, 3, 5, 7), decoder_channels=64, pretrained=True),
    data_preprocessor=dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0]))
train_dataloader = dict(batch_size=8, num_workers=1)
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3),
    paramwise_cfg=dict(custom_keys={'detector.encoder': dict(lr_mult=0.2)}))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=50),
    dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=50, end=iters),
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=iters))
