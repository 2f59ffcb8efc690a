"""Decode heads of the segmentation stage and IRNet's class-boundary head."""
from .aspp_v2_head import *  # noqa: F401,F403
from .class_boundary_head import *  # noqa: F401,F403
