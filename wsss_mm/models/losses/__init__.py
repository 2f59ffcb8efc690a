"""Losses of the segmentation stage and IRNet's affinity loss."""
from .affinity_loss import *  # noqa: F401,F403
from .max_fusion_loss import *  # noqa: F401,F403
