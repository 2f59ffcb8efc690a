"""Decode heads of the segmentation stage."""
from .aspp_v2_head import *  # noqa: F401,F403
