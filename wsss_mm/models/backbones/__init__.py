"""Backbones (mmseg's ResNet/ResNetV1c/... are available by type name as well)."""
from .vgg16 import *  # noqa: F401,F403
from .efficientnet_lite import *  # noqa: F401,F403
from .caffe_resnet import *  # noqa: F401,F403
