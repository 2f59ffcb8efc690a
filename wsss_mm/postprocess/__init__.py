"""Post-processing of segmentation outputs (dense CRF)."""
from .dense_crf import *  # noqa: F401,F403
