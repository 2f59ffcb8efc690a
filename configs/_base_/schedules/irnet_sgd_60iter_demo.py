# The CPU demo IRNets' schedule: 60 iterations of SGD lr 0.1, momentum 0.9, weight decay 1e-4
# at a constant rate (IRN decays it, poly 0.9; a constant rate keeps the schedule whole when
# only train_cfg.max_iters is overridden), one checkpoint at the end.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=60)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=60, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
