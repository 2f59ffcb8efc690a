"""Datasets and transforms: VOC image-level data, pseudo-label segmentation data, SOD data."""
from .pseudo_label_dataset import PseudoLabelVOCDataset
from .relation_label_dataset import LoadRelationLabels, RelationLabelDataset
from .sod_dataset import LoadSaliencyAnnotations, SalientObjectDataset
from .transforms import PackMultiLabelInputs
from .voc import (VOC_CLASSES, VOC_PALETTE, VOC_SEG_CLASSES, VOCImageLevelDataset,
                  labels_from_mask, labels_from_xml, read_split)

__all__ = [
    'VOC_CLASSES', 'VOC_SEG_CLASSES', 'VOC_PALETTE', 'VOCImageLevelDataset',
    'PseudoLabelVOCDataset', 'PackMultiLabelInputs', 'labels_from_xml', 'labels_from_mask',
    'read_split', 'LoadSaliencyAnnotations', 'SalientObjectDataset', 'RelationLabelDataset',
    'LoadRelationLabels'
]
