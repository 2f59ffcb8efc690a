"""CLIP in OpenAI's layout, its file reader and the zero-shot classifier of CLIP-ES."""
from .checkpoint import *  # noqa: F401,F403
from .clip_model import *  # noqa: F401,F403
from .zero_shot_classifier import *  # noqa: F401,F403
