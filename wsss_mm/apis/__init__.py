"""High-level APIs: the pseudo-label pipeline (seeds -> [cue] -> refiner) of one image."""
from .pseudo_label_pipeline import (CUE_NETWORKS, DEFAULT_SALIENCY_PREPROCESSOR,
                                    PseudoLabelPipeline, seeds_cue)

__all__ = ['CUE_NETWORKS', 'DEFAULT_SALIENCY_PREPROCESSOR', 'PseudoLabelPipeline', 'seeds_cue']
