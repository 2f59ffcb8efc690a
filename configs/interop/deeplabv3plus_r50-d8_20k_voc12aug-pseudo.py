# Interop: train mmseg's own DeepLabV3+ R-50-D8 on the same pseudo labels and score it with
# the same metric, to compare segmentors (or other toolbox methods) on equal footing.
# The model comes straight from mmseg's config (mmseg:: package configs); the schedule is
# the paper's poly one with mmseg's usual lr for this model and no DeepLab-v2 head groups.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/datasets/voc12aug_pseudo_seg.py', '../_base_/schedules/seg_sgd_poly_20k.py',
    '../_base_/default_runtime.py'
]
crop_size = (321, 321)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(num_classes=21, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=21, norm_cfg=norm_cfg))
optim_wrapper = dict(optimizer=dict(lr=0.01), paramwise_cfg=dict(_delete_=True))
param_scheduler = [dict(type='PolyLR', by_epoch=False, eta_min=1e-4, power=0.9, begin=0,
                        end=20000)]
train_cfg = dict(val_interval=2000)
train_dataloader = dict(batch_size=8)
default_hooks = dict(checkpoint=dict(interval=2000))
