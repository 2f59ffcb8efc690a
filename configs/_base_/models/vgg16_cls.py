# Stage-1 multi-label classifier of Xu et al.: ImageNet VGG-16, last layer -> 20 classes.
data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_value=0)
vgg16_imagenet = dict(type='Pretrained', checkpoint='torchvision://vgg16')
model = dict(
    type='MultiLabelClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='VGG16Features', init_cfg=vgg16_imagenet),
    head=dict(type='VGGFCHead', num_classes=20, init_cfg=vgg16_imagenet))
# Grad-CAM on the ReLU after conv5_3 (torchvision name features.29).
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone.features.29')
