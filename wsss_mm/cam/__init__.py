"""Stage 1: class attention maps (Grad-CAM, Grad-CAM++, CAM) from a trained classifier."""
from .base_cam import *  # noqa: F401,F403
from .cam import *  # noqa: F401,F403
from .grad_cam import *  # noqa: F401,F403
from .grad_cam_plus_plus import *  # noqa: F401,F403
