"""PASCAL VOC 2012 (+ SBD augmentation) with image-level labels.

The WSSS path trains on image-level labels only. By default they come from the
``Annotations/*.xml`` files (the genuine image-level supervision: one
``<object><name>`` per instance). The VOC colour map is also the palette of the
other datasets' label PNGs (:func:`voc_palette`).
"""
import os.path as osp
import warnings
import xml.etree.ElementTree as ET
from typing import List, Sequence

import numpy as np

from wsss_mm.datasets.image_level import ImageLevelDataset, read_split  # noqa: F401 (tools)
from wsss_mm.registry import DATASETS

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')
VOC_SEG_CLASSES = ('background', ) + VOC_CLASSES


def voc_palette(num_colors: int = 256) -> List[int]:
    """The PASCAL colour map (bit-interleaved), flattened to ``[r0, g0, b0, r1, ...]``."""
    palette = []
    for index in range(num_colors):
        r = g = b = 0
        value = index
        for shift in range(7, -1, -1):
            r |= ((value >> 0) & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        palette.extend((r, g, b))
    return palette


VOC_PALETTE = voc_palette()


def labels_from_xml(path: str, classes: Sequence[str] = VOC_CLASSES) -> np.ndarray:
    """Multi-hot labels from a VOC annotation XML; unknown names raise, naming the file."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise ValueError(f'cannot read annotation {path}: {err}') from err
    labels = np.zeros(len(classes), dtype=np.float32)
    for obj in root.iter('object'):
        name = (obj.findtext('name') or '').strip()
        if name not in classes:
            raise ValueError(f'unknown class name {name!r} in {path}')
        labels[classes.index(name)] = 1
    return labels


@DATASETS.register_module()
class VOCImageLevelDataset(ImageLevelDataset):
    """PASCAL VOC 2012 (+ SBD) images with image-level labels, for every WSSS stage.

    Labels come from ``Annotations/*.xml`` by default (``label_source='xml'``, the
    genuine image-level supervision), or from the masks (``'mask'``) or an IRN
    ``cls_labels.npy`` (``'npy'``). Label values: 0 background, 1..20 the classes
    in :data:`VOC_CLASSES` order, 255 ignore. Arguments: see
    :class:`~wsss_mm.datasets.ImageLevelDataset`; ``data_prefix`` keys
    ``img_path`` (``JPEGImages``), ``xml_path`` (``Annotations``) and
    ``seg_map_path`` (``SegmentationClassAug``).
    """
    METAINFO = dict(classes=VOC_CLASSES, seg_classes=VOC_SEG_CLASSES,
                    label_ids=tuple(range(1, len(VOC_CLASSES) + 1)),
                    palette=[VOC_PALETTE[i * 3:i * 3 + 3] for i in range(256)])
    DEFAULT_PREFIX = dict(img_path='JPEGImages', xml_path='Annotations',
                          seg_map_path='SegmentationClassAug')
    LABEL_SOURCES = ('xml', 'mask', 'npy')

    def __init__(self, data_root: str, ann_file: str, label_source: str = 'xml',
                 **kwargs) -> None:
        super().__init__(data_root=data_root, ann_file=ann_file, label_source=label_source,
                         **kwargs)

    def image_labels(self, img_id: str, seg_map_path: str) -> np.ndarray:
        """Labels from the image's XML, or from the mask / label file."""
        if self.label_source == 'xml':
            return labels_from_xml(osp.join(self.data_prefix['xml_path'], img_id + '.xml'),
                                   self.metainfo['classes'])
        return super().image_labels(img_id, seg_map_path)

    def label_path(self, img_id: str, seg_map_path: str) -> str:
        """The XML of ``img_id`` for ``label_source='xml'``, else the base class's file."""
        if self.label_source == 'xml':
            return osp.join(self.data_prefix['xml_path'], img_id + '.xml')
        return super().label_path(img_id, seg_map_path)
