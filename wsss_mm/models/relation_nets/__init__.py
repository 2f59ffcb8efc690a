"""Networks that learn inter-pixel relations from seeds (IRNet)."""
from .irnet import *  # noqa: F401,F403
