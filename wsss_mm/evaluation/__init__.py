"""Metrics: multi-label classification, CAM / pseudo-label / saliency quality, CRF mIoU."""
from .crf_iou_metric import CRFIoUMetric
from .multilabel_metric import MultiLabelMetric, average_precision
from .pseudo_label_eval import (FUSION_GAMMA1, FUSION_GAMMA2, evaluate_cams, evaluate_fusion,
                                evaluate_pseudo_labels, evaluate_saliency, format_table)
from .segmentation_scores import cams_to_label, confusion_matrix, scores_from_confusion
from .sod_metric import SaliencyMetric, f_measure_curve

__all__ = [
    'CRFIoUMetric', 'MultiLabelMetric', 'average_precision', 'evaluate_cams',
    'evaluate_pseudo_labels', 'evaluate_saliency', 'evaluate_fusion', 'FUSION_GAMMA1',
    'FUSION_GAMMA2', 'format_table', 'cams_to_label',
    'confusion_matrix', 'scores_from_confusion', 'SaliencyMetric', 'f_measure_curve'
]
