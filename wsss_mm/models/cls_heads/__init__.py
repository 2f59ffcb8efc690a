"""Classification heads of the stage-1 multi-label classifier."""
from .gap_linear_head import *  # noqa: F401,F403
from .vgg_fc_head import *  # noqa: F401,F403
