"""Segmentors of the segmentation stage."""
from .msc_deeplabv2 import *  # noqa: F401,F403
