# Stage 2 of the CPU demo: U²-Net-p trained from scratch on the generated salient-object set
# (the role DUTS / MSRA-B play for DHSNet in the paper). The network resizes its input to
# 64x64 itself; the generated images share one size, so the pipelines need no Resize.
# (DHSNet's VGG-16 at 224 is ~5x slower per step and needs ImageNet weights to train well.)
_base_ = '../saliency/u2netp_20k_duts-tr.py'
data_root = 'work_dirs/demo/data/SOD'
model = dict(detector=dict(input_size=64), data_preprocessor=dict(size=None, size_divisor=32))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = [dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=0,
                        end=200)]
train_cfg = dict(max_iters=200, val_interval=200)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=200, save_best=None))
