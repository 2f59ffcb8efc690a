# ResNet-50 + GAP classifier (classic CAM / Grad-CAM on layer4), same recipe as the paper's VGG.
_base_ = [
    '../_base_/models/resnet50_gap_cls.py', '../_base_/datasets/voc12aug_cls.py',
    '../_base_/schedules/cls_sgd_15e.py', '../_base_/default_runtime.py'
]
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=10.0)}))
