"""PASCAL VOC 2012 (+ SBD augmentation) with image-level labels.

The WSSS path trains on image-level labels only. By default they come from the
``Annotations/*.xml`` files (the genuine image-level supervision: one
``<object><name>`` per instance); ``label_source='mask'`` derives them from the
segmentation PNGs instead (unique ids, ignoring 0 and 255). Masks are attached
(``seg_map_path``) only when ``with_seg_map=True``, for evaluation.
"""
import os.path as osp
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from wsss_mm.registry import DATASETS

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')
VOC_SEG_CLASSES = ('background', ) + VOC_CLASSES


def voc_palette(num_colors: int = 256) -> List[int]:
    """The standard VOC colour map, flattened to ``[r0, g0, b0, r1, ...]``."""
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


def read_split(path: str) -> List[str]:
    """Read an ``ImageSets`` split file (one id per line; SBD lists allowed).

    Blank lines, CRLF line ends and surrounding spaces are ignored. An id listed
    more than once is kept once (at its first place), with one warning naming
    the file and the repeated ids, so no image is processed or counted twice.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file not found: {path}')
    with open(path, encoding='utf-8') as f:
        # SBD-style lists may hold "JPEGImages/x.jpg SegmentationClassAug/x.png"
        ids = [osp.splitext(osp.basename(line.split()[0]))[0] for line in f if line.strip()]
    unique = list(dict.fromkeys(ids))
    if len(unique) < len(ids):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        warnings.warn(f'split file {path} lists {len(ids) - len(unique)} duplicate id(s) '
                      f'({", ".join(repeated[:10])}{" ..." if len(repeated) > 10 else ""}); '
                      f'each image is used once', stacklevel=2)
    return unique


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


def labels_from_mask(path: str, num_classes: int = len(VOC_CLASSES)) -> np.ndarray:
    """Multi-hot labels from a VOC label PNG (ids 1..num_classes; 0 and 255 ignored)."""
    try:
        mask = np.asarray(Image.open(path))
    except OSError as err:
        raise ValueError(f'cannot read mask {path}: {err}') from err
    ids = np.unique(mask)
    ids = ids[(ids != 0) & (ids != 255)]
    if ids.size and ids.max() > num_classes:
        raise ValueError(f'label id {int(ids.max())} > {num_classes} in {path}')
    labels = np.zeros(num_classes, dtype=np.float32)
    labels[ids.astype(np.int64) - 1] = 1
    return labels


@DATASETS.register_module()
class VOCImageLevelDataset(BaseDataset):
    """VOC images with image-level (multi-hot) labels for classifier training and CAMs.

    Args:
        data_root: Root of ``VOCdevkit/VOC2012``.
        ann_file: Split file relative to ``data_root``, e.g.
            ``ImageSets/SegmentationAug/train_aug.txt``.
        label_source: ``'xml'`` (Annotations, default) or ``'mask'`` (label PNGs).
        with_seg_map: Attach ``seg_map_path`` (for evaluation only).
        data_prefix: Folders of images, XMLs and masks under ``data_root``.
        pipeline: mmcv transforms.
        skip_unlabeled: Drop images without any of the 20 classes (they carry no
            image-level supervision); otherwise they raise.
    """
    METAINFO = dict(classes=VOC_CLASSES, seg_classes=VOC_SEG_CLASSES,
                    palette=[VOC_PALETTE[i * 3:i * 3 + 3] for i in range(21)])

    def __init__(self,
                 data_root: str,
                 ann_file: str,
                 label_source: str = 'xml',
                 with_seg_map: bool = False,
                 data_prefix: Optional[Dict[str, str]] = None,
                 pipeline: Sequence = (),
                 skip_unlabeled: bool = True,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        if label_source not in ('xml', 'mask'):
            raise ValueError(f"label_source must be 'xml' or 'mask', got {label_source!r}")
        self.label_source = label_source
        self.with_seg_map = with_seg_map
        self.skip_unlabeled = skip_unlabeled
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        prefix = dict(img_path='JPEGImages', xml_path='Annotations',
                      seg_map_path='SegmentationClassAug')
        prefix.update(data_prefix or {})
        super().__init__(data_root=data_root, ann_file=ann_file, data_prefix=prefix,
                         pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        """One entry per split id: image path, multi-hot ``gt_label``, optional mask path."""
        data_list = []
        for img_id in read_split(self.ann_file):
            seg_map_path = osp.join(self.data_prefix['seg_map_path'],
                                    img_id + self.seg_map_suffix)
            if self.label_source == 'xml':
                label_path = osp.join(self.data_prefix['xml_path'], img_id + '.xml')
                labels = labels_from_xml(label_path)
            else:
                label_path = seg_map_path
                labels = labels_from_mask(seg_map_path)
            if not labels.any():
                if self.skip_unlabeled:
                    continue
                raise ValueError(f'{label_path} has no object of the {len(VOC_CLASSES)} '
                                 f'classes (image {img_id} has no image-level labels)')
            info = dict(img_id=img_id,
                        img_path=osp.join(self.data_prefix['img_path'], img_id + self.img_suffix),
                        gt_label=labels)
            if self.with_seg_map:
                info['seg_map_path'] = seg_map_path
                info['reduce_zero_label'] = False
                info['seg_fields'] = []
            data_list.append(info)
        return data_list
