# DeepLab-v2 on COCO (deeplab-pytorch configs/cocostuff164k.yaml, the trainer WSSS works
# such as ReCAM and AMN use for their COCO segmentors): batch 10 (5 x iter_size 2 there),
# 100,000 iterations, lr 2.5e-4 "poly" (power 0.9), weight decay 5e-4, crop 321.
_base_ = './seg_sgd_step_8k.py'
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
param_scheduler = [
    dict(type='PolyLR', by_epoch=False, eta_min=0.0, power=0.9, begin=0, end=100000)
]
train_cfg = dict(max_iters=100000, val_interval=10000)
default_hooks = dict(checkpoint=dict(interval=10000))
