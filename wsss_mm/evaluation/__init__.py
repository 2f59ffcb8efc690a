"""Metrics: multi-label classification, CAM / pseudo-label / saliency quality."""
from .crf_iou_metric import CRFIoUMetric
from .multilabel_metric import *  # noqa: F401,F403
from .pseudo_label_eval import (evaluate_cam_dir, evaluate_label_dir, evaluate_saliency_dir,
                                format_table)
from .sod_metric import *  # noqa: F401,F403
from .segmentation_scores import cams_to_label, confusion_matrix, scores_from_confusion
