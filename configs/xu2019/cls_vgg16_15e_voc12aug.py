# Stage 1 of Xu et al. (ICASSP 2019): VGG-16 multi-label classifier on VOC12 train_aug.
_base_ = [
    '../_base_/models/vgg16_cls.py', '../_base_/datasets/voc12aug_cls.py',
    '../_base_/schedules/cls_sgd_15e.py', '../_base_/default_runtime.py'
]
# lr x10 on the new 20-way layer (0.01 vs 0.001)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.classifier.6': dict(lr_mult=10.0)}))
