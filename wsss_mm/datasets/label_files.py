"""Image-level label files of the WSSS field: IRN's ``cls_labels.npy`` and its COCO twin.

IRN (``voc12/make_cls_labels.py``) pickles a dict ``{image id: multi-hot float32 [20]}``
with ``np.save``; VOC ids are stored as integers, ``2007_000032`` -> ``2007000032``
(IRN's ``decode_int_filename`` inverts it). For COCO the keys are the image file
stems (``COCO_train2014_000000000009``), which are not integers. This module reads
both kinds of keys and writes VOC files in IRN's integer form, so files from other
repositories and files written here are interchangeable.
"""
import io
import re
from typing import Dict, Mapping

import numpy as np

from wsss_mm.utils.io import atomic_write_bytes

__all__ = ['read_cls_labels', 'write_cls_labels', 'cls_labels_of', 'encode_voc_id', 'decode_voc_id']

_VOC_ID = re.compile(r'^(\d{4})_(\d{6})$')


def encode_voc_id(img_id: str) -> int:
    """IRN's integer key of a VOC id: ``'2007_000032'`` -> ``2007000032``."""
    if not _VOC_ID.match(img_id):
        raise ValueError(f'{img_id!r} is not a VOC image id (YYYY_NNNNNN)')
    return int(img_id.replace('_', ''))


def decode_voc_id(key: int) -> str:
    """The VOC id of IRN's integer key: ``2007000032`` -> ``'2007_000032'``."""
    text = str(int(key))
    if len(text) != 10:
        raise ValueError(f'{key!r} is not an IRN VOC key (10 digits)')
    return f'{text[:4]}_{text[4:]}'


def read_cls_labels(path: str) -> Dict[str, np.ndarray]:
    """``{image id: multi-hot float32 [C]}`` from a ``cls_labels.npy`` (integer or text keys)."""
    try:
        data = np.load(path, allow_pickle=True)
        table = data.item() if data.dtype == object and data.shape == () else None
    except (OSError, ValueError) as err:
        raise ValueError(f'cannot read label file {path}: {err}') from err
    if not isinstance(table, dict):
        raise ValueError(f'label file {path} holds no {{image id: labels}} dict '
                         f'(got an array of shape {data.shape})')
    labels = {}
    for key, value in table.items():
        img_id = decode_voc_id(key) if isinstance(key, (int, np.integer)) else str(key)
        labels[img_id] = np.asarray(value, dtype=np.float32)
    return labels


def cls_labels_of(dataset) -> Dict[str, np.ndarray]:
    """``{image id: gt_label}`` of every image of an image-level dataset."""
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return {info['img_id']: np.asarray(info['gt_label'], np.float32) for info in infos}


def write_cls_labels(path: str, labels: Mapping[str, np.ndarray],
                     integer_voc_keys: bool = False) -> None:
    """Write ``{image id: multi-hot}`` as a ``cls_labels.npy``, atomically.

    Args:
        path: Output ``.npy`` file.
        labels: Image id -> multi-hot labels [C].
        integer_voc_keys: Store VOC ids as IRN's integers (its own file format).
    """
    table = {(encode_voc_id(k) if integer_voc_keys else k): np.asarray(v, dtype=np.float32)
             for k, v in labels.items()}
    buffer = io.BytesIO()
    np.save(buffer, np.array(table, dtype=object), allow_pickle=True)
    atomic_write_bytes(path, buffer.getvalue())
