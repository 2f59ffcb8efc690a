# Paper §3, multi-scale inputs: 20,000 iterations, batch 1, lr 2.5e-4, "poly" (power 0.9).
_base_ = './seg_sgd_step_8k.py'
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
param_scheduler = [
    dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=0, end=20000)
]
train_cfg = dict(max_iters=20000, val_interval=5000)
default_hooks = dict(checkpoint=dict(interval=5000))
