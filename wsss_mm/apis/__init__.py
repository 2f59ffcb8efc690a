"""High-level APIs: the pseudo-label pipeline of stages 1–3."""
from .pseudo_label_pipeline import DEFAULT_SALIENCY_PREPROCESSOR, PseudoLabelPipeline, fuse_stored

__all__ = ['DEFAULT_SALIENCY_PREPROCESSOR', 'PseudoLabelPipeline', 'fuse_stored']
