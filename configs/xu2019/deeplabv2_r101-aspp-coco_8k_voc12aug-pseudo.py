# Table 1, row "ASPP + COCO" (58.5): initialised from the COCO-pretrained DeepLab-v2 of
# deeplab-pytorch, converted with
#   python tools/convert_deeplabv2_coco_init.py deeplabv1_resnet101-coco.pth \
#       checkpoints/deeplabv2_r101_coco_init.pth
# The caffe ResNet puts the stride in the 1x1 conv, rounds its stem max-pool up (CaffeResNet)
# and expects BGR inputs minus the mean.
_base_ = './deeplabv2_r101-aspp_8k_voc12aug-pseudo.py'
model = dict(
    data_preprocessor=dict(mean=[104.008, 116.669, 122.675], std=[1.0, 1.0, 1.0],
                           bgr_to_rgb=False),
    backbone=dict(type='CaffeResNet', style='caffe', init_cfg=None))
load_from = 'checkpoints/deeplabv2_r101_coco_init.pth'
