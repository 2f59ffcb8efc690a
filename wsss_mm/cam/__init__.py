"""Stage 1: class attention maps from a trained classifier (the CAM family on one engine)."""
from .ablation_cam import *  # noqa: F401,F403
from .base_cam import *  # noqa: F401,F403
from .cam import *  # noqa: F401,F403
from .clip_es_cam import *  # noqa: F401,F403
from .eigen_cam import *  # noqa: F401,F403
from .eigen_grad_cam import *  # noqa: F401,F403
from .grad_cam import *  # noqa: F401,F403
from .grad_cam_elementwise import *  # noqa: F401,F403
from .grad_cam_plus_plus import *  # noqa: F401,F403
from .hires_cam import *  # noqa: F401,F403
from .layer_cam import *  # noqa: F401,F403
from .perturbation_cam import *  # noqa: F401,F403
from .score_cam import *  # noqa: F401,F403
from .xgrad_cam import *  # noqa: F401,F403
