"""Datasets and transforms: image-level WSSS data (VOC, COCO), pseudo-label data, SOD data."""
from .coco import (COCO_CATEGORY_IDS, COCO_CLASSES, COCO_SEG_CLASSES, COCOImageLevelDataset,
                   check_coco_instances)
from .image_level import ImageLevelDataset, labels_from_mask, read_split
from .label_files import (cls_labels_of, decode_voc_id, encode_voc_id, read_cls_labels,
                          write_cls_labels)
from .label_map_dataset import LabelMapDataset
from .pseudo_label_dataset import PseudoLabelVOCDataset
from .relation_label_dataset import LoadRelationLabels, RelationLabelDataset
from .sod_dataset import LoadSaliencyAnnotations, SalientObjectDataset
from .transforms import LoadImageChecked, LoadImageStrict, PackMultiLabelInputs
from .voc import (VOC_CLASSES, VOC_PALETTE, VOC_SEG_CLASSES, VOCImageLevelDataset,
                  labels_from_xml, voc_palette)

__all__ = [
    'COCO_CATEGORY_IDS', 'COCO_CLASSES', 'COCO_SEG_CLASSES', 'COCOImageLevelDataset',
    'check_coco_instances',
    'ImageLevelDataset', 'labels_from_mask', 'read_split', 'cls_labels_of', 'decode_voc_id',
    'encode_voc_id', 'read_cls_labels', 'write_cls_labels', 'LabelMapDataset',
    'PseudoLabelVOCDataset', 'LoadSaliencyAnnotations', 'SalientObjectDataset',
    'LoadImageChecked', 'LoadImageStrict', 'PackMultiLabelInputs', 'VOC_CLASSES', 'VOC_PALETTE',
    'VOC_SEG_CLASSES', 'VOCImageLevelDataset', 'labels_from_xml', 'voc_palette',
    'RelationLabelDataset',
    'LoadRelationLabels'
]
