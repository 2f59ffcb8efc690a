"""File formats of the pipeline's stage outputs (CAMs, cues, pseudo labels, overlays)."""
from .artifacts import (CUES, InputError, WorkDirLayout, check_image_header, flat_palette,
                        quantize_cams, quantize_saliency, read_boundary, read_cams, read_cue,
                        read_label_map, read_optional_label_map, read_rgb, read_saliency,
                        write_boundary, write_cams, write_cue, write_label_map, write_overlay,
                        write_relation_labels, write_saliency)

__all__ = [
    'CUES', 'InputError', 'WorkDirLayout', 'check_image_header', 'flat_palette', 'quantize_cams',
    'quantize_saliency',
    'read_boundary', 'read_cams', 'read_cue', 'read_label_map', 'read_optional_label_map',
    'read_rgb', 'read_saliency', 'write_boundary', 'write_cams', 'write_cue', 'write_label_map',
    'write_overlay', 'write_relation_labels', 'write_saliency'
]
