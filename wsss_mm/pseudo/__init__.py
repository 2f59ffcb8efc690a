"""Pseudo-label stage: fusion (Algorithm 1), IRN relation labels and random walk."""
from .pixel_pairs import *  # noqa: F401,F403
from .pseudo_label_fuser import *  # noqa: F401,F403
from .random_walk import *  # noqa: F401,F403
from .relation_labels import *  # noqa: F401,F403
