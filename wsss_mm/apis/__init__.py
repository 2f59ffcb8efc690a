"""High-level APIs: the pseudo-label pipeline of stages 1–3."""
from .pseudo_label_pipeline import (InputError, PseudoLabelPipeline, quantize_cams,
                                    quantize_saliency, read_rgb)

__all__ = [
    'InputError', 'PseudoLabelPipeline', 'quantize_cams', 'quantize_saliency', 'read_rgb'
]
