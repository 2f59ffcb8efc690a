# Paper §3, single-scale inputs: 8,000 iterations, batch 10, lr 0.001 x0.1 every 2,000.
# DeepLab-v2 groups: backbone x1, ASPP weights x10, ASPP biases x20 without weight decay
# (mmengine matches the longest key, so each bias gets its own key).
_aspp_bias = dict(lr_mult=20.0, decay_mult=0.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(
        custom_keys={
            'decode_head': dict(lr_mult=10.0),
            'decode_head.convs.0.bias': _aspp_bias,
            'decode_head.convs.1.bias': _aspp_bias,
            'decode_head.convs.2.bias': _aspp_bias,
            'decode_head.convs.3.bias': _aspp_bias,
        }))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[2000, 4000, 6000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
log_processor = dict(by_epoch=False)
