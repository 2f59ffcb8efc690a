"""File formats of the pipeline's stage outputs (CAMs, saliency, pseudo labels, overlays)."""
from .artifacts import (InputError, WorkDirLayout, flat_palette, quantize_cams,
                        quantize_saliency, read_cams, read_label_map, read_optional_label_map,
                        read_rgb, read_saliency, write_cams, write_label_map, write_overlay,
                        write_saliency)

__all__ = [
    'InputError', 'WorkDirLayout', 'flat_palette', 'quantize_cams', 'quantize_saliency',
    'read_cams', 'read_label_map', 'read_optional_label_map', 'read_rgb', 'read_saliency',
    'write_cams', 'write_label_map', 'write_overlay', 'write_saliency'
]
