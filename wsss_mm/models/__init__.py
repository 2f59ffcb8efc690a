"""Networks: classifiers (stage 1), relation nets (IRNet), segmentors, heads and losses."""
from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .clip import *  # noqa: F401,F403
from .cls_heads import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .relation_nets import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
