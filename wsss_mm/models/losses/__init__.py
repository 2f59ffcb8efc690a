"""Losses of the segmentation stage."""
from .max_fusion_loss import *  # noqa: F401,F403
