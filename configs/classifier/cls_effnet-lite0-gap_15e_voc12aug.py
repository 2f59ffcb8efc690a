# A CPU-friendly, genuinely pretrained classifier: ImageNet EfficientNet-Lite0 + GAP head.
_base_ = [
    '../_base_/models/efficientnet-lite0_gap_cls.py', '../_base_/datasets/voc12aug_cls.py',
    '../_base_/schedules/cls_sgd_15e.py', '../_base_/default_runtime.py'
]
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=10.0)}))
