# Stage 1 of Xu et al. on MS-COCO 2014: the VGG-16 multi-label classifier (80 classes) with
# the paper's VOC recipe, on the 82,081 labelled train2014 images.
_base_ = [
    '../_base_/models/vgg16_cls.py', '../_base_/datasets/coco14_cls.py',
    '../_base_/schedules/cls_sgd_15e.py', '../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=80))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.classifier.6': dict(lr_mult=10.0)}))
