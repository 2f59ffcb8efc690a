"""Stage 2 of the pipeline: saliency detectors and the erasing saliency generator."""
from .detectors import *  # noqa: F401,F403
from .erasing_saliency import *  # noqa: F401,F403
from .saliency_model import *  # noqa: F401,F403
