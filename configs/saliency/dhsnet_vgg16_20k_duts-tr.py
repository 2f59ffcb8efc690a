# DHSNet (Liu & Han, CVPR 2016), the paper's saliency detector: VGG-16 global view from
# ImageNet, RCL refinement with deep supervision, trained on DUTS-TR. Use the result in
# stage 2 with
#   saliency_generator.detector.init_cfg=dict(type='Pretrained', prefix='detector.',
#                                             checkpoint='work_dirs/.../best_sod_maxF_*.pth')
_base_ = [
    '../_base_/datasets/duts-tr_sod.py', '../_base_/schedules/sod_sgd_poly_20k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    type='SaliencyDetector',
    detector=dict(
        type='DHSNet',
        input_size=224,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')),
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size=(224, 224),
        pad_val=0,
        seg_pad_val=255))
