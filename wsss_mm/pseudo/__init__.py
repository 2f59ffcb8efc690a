"""Pseudo-label stage: refiners (seeds -> label map: thresholded CAMs, dense CRF,
Algorithm 1 fusion with saliency, IRN's random walk), IRN relation labels and pixel pairs."""
from .base_refiner import *  # noqa: F401,F403
from .clip_es_refiners import *  # noqa: F401,F403
from .crf_refiner import *  # noqa: F401,F403
from .pixel_pairs import *  # noqa: F401,F403
from .pseudo_label_fuser import *  # noqa: F401,F403
from .random_walk import *  # noqa: F401,F403
from .relation_labels import *  # noqa: F401,F403
from .saliency_fusion_refiner import *  # noqa: F401,F403
from .threshold_refiner import *  # noqa: F401,F403
