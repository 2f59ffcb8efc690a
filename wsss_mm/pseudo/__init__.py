"""Stage 3 of the pipeline: fusion of attention and saliency into pseudo labels."""
from .pseudo_label_fuser import *  # noqa: F401,F403
