"""Networks: classifiers (stage 1), segmentors, heads and losses (stage 4)."""
from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .cls_heads import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
