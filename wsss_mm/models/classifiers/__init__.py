"""Stage-1 multi-label classifiers."""
from .multilabel_classifier import *  # noqa: F401,F403
