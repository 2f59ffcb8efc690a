# Interop: train mmseg's own DeepLabV3+ R-50-D8 on the same pseudo labels and score it with
# the same metric, to compare segmentors (or other toolbox methods) on equal footing.
# The model comes straight from mmseg's config (mmseg:: package configs).
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/datasets/voc12aug_pseudo_seg.py', '../_base_/default_runtime.py'
]
crop_size = (321, 321)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(num_classes=21, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=21, norm_cfg=norm_cfg))
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', by_epoch=False, eta_min=1e-4, power=0.9, begin=0,
                        end=20000)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
train_dataloader = dict(batch_size=8)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
log_processor = dict(by_epoch=False)
