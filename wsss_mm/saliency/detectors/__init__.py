"""Salient object detectors: trainable (DHSNet, U²-Net, EfficientNet-Lite0 FPN) and
weight-free (RBD)."""
from .base import *  # noqa: F401,F403
from .boundary_prior import *  # noqa: F401,F403
from .dhsnet import *  # noqa: F401,F403
from .effnet_fpn import *  # noqa: F401,F403
from .u2net import *  # noqa: F401,F403
