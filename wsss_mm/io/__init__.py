"""File formats of the pipeline's stage outputs (CAMs, cues, pseudo labels, overlays) and
the records of what made them."""
from .artifacts import (CUES, InputError, WorkDirLayout, check_image_header, flat_palette,
                        quantize_cams, quantize_saliency, read_boundary, read_cams, read_cue,
                        read_label_map, read_optional_label_map, read_rgb, read_saliency,
                        write_boundary, write_cams, write_cue, write_label_map, write_overlay,
                        write_relation_labels, write_saliency)
from .stage_record import (RECORD_FILE, clear_stage, config_differences, diff_records,
                           fingerprint_file, make_record, normalize, pseudo_stage_config,
                           read_record, record_digest, split_digest, stage_files, stage_state,
                           write_record)

__all__ = [
    'CUES', 'InputError', 'WorkDirLayout', 'check_image_header', 'flat_palette',
    'quantize_cams', 'quantize_saliency',
    'read_boundary', 'read_cams', 'read_cue', 'read_label_map', 'read_optional_label_map',
    'read_rgb', 'read_saliency', 'write_boundary', 'write_cams', 'write_cue', 'write_label_map',
    'write_overlay', 'write_relation_labels', 'write_saliency', 'RECORD_FILE', 'clear_stage',
    'config_differences', 'diff_records', 'fingerprint_file', 'make_record', 'normalize',
    'pseudo_stage_config', 'read_record', 'record_digest', 'split_digest', 'stage_files',
    'stage_state', 'write_record'
]
