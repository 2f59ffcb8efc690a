# Stage 2 of the real-photo demo with a learned detector: the ImageNet EfficientNet-Lite0
# encoder (strides 4/8/16/32) under a light FPN decoder (EfficientNetLiteFPN), trained on the
# generated salient-object set like the U²-Net-p demo (its pipelines and data), at 192x192.
# The encoder keeps its BatchNorm statistics and learns at a tenth of the decoder's rate
# (Adam 1e-3 / 1e-4, poly decay); inputs normalized as the ImageNet weights expect.
_base_ = './saliency_u2netp-64_200iter_demo.py'
iters = 300
model = dict(
    detector=dict(_delete_=True, type='EfficientNetLiteFPN', input_size=192,
                  encoder_levels=(2, 3, 5, 7), decoder_channels=64, pretrained=True),
    data_preprocessor=dict(mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0]))
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3),
    paramwise_cfg=dict(custom_keys={'detector.encoder': dict(lr_mult=0.1)}))
param_scheduler = [dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=0,
                        end=iters)]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(checkpoint=dict(interval=iters))
