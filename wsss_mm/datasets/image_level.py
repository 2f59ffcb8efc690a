"""Images of a split with multi-hot image-level labels: the data every WSSS stage reads.

A concrete dataset (VOC, COCO ...) is a subclass that sets :attr:`METAINFO` and its
default folders; every stage (classifier, CAMs, pseudo labels, their evaluation)
takes class names, label values and colours from ``dataset.metainfo`` and never
names a dataset:

* ``classes``: the image-level classes, in the order of the classifier's outputs
  and of ``gt_label``;
* ``label_ids``: the value of each of those classes in masks and pseudo labels
  (0 is background, 255 ignore);
* ``seg_classes``: the names of the label values ``0..len(seg_classes) - 1``;
* ``palette``: one ``[r, g, b]`` per label value ``0..255`` (so PNGs carry a full
  colour table and 255 has its own colour).
"""
import os.path as osp
import warnings
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from wsss_mm.datasets.label_files import read_cls_labels

__all__ = ['ImageLevelDataset', 'read_split', 'labels_from_mask']


def read_split(path: str) -> List[str]:
    """Read a split file (one id per line; SBD-style ``JPEGImages/x.jpg ...`` lines allowed).

    Blank lines, CRLF line ends and surrounding spaces are ignored. An id listed
    more than once is kept once (at its first place), with one warning naming
    the file and the repeated ids, so no image is processed or counted twice.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file not found: {path}')
    with open(path, encoding='utf-8') as f:
        ids = [osp.splitext(osp.basename(line.split()[0]))[0] for line in f if line.strip()]
    unique = list(dict.fromkeys(ids))
    if len(unique) < len(ids):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        warnings.warn(f'split file {path} lists {len(ids) - len(unique)} duplicate id(s) '
                      f'({", ".join(repeated[:10])}{" ..." if len(repeated) > 10 else ""}); '
                      f'each image is used once', stacklevel=2)
    return unique


def labels_from_mask(path: str, label_ids: Sequence[int]) -> np.ndarray:
    """Multi-hot labels [len(label_ids)] from the values of a label PNG (0 and 255 ignored).

    A value that is no class of ``label_ids`` raises, naming the file.
    """
    try:
        mask = np.asarray(Image.open(path))
    except OSError as err:
        raise ValueError(f'cannot read mask {path}: {err}') from err
    index = {int(v): i for i, v in enumerate(label_ids)}
    labels = np.zeros(len(label_ids), dtype=np.float32)
    for value in np.unique(mask):
        if value in (0, 255):
            continue
        if int(value) not in index:
            raise ValueError(f'label value {int(value)} in {path} is not a class id '
                             f'({min(index)}..{max(index)})')
        labels[index[int(value)]] = 1
    return labels


class ImageLevelDataset(BaseDataset):
    """Split-file images with multi-hot ``gt_label`` (and mask paths for evaluation).

    Args:
        data_root: Root the folders and files are relative to.
        ann_file: Split file (one image id per line), relative to ``data_root``.
        label_source: ``'mask'`` (the classes present in each mask), ``'npy'`` (an
            IRN-style ``cls_labels.npy``, ``label_file``) or a source a subclass adds.
        label_file: The ``.npy`` label file of ``label_source='npy'``.
        with_seg_map: Attach ``seg_map_path`` (evaluation only).
        data_prefix: Folders under ``data_root``: ``img_path``, ``seg_map_path`` and
            what the subclass's label source reads; missing keys take the defaults.
        pipeline: mmcv transforms.
        skip_unlabeled: Drop images without any class (they carry no image-level
            supervision), with one warning naming them (:attr:`unlabeled_ids`);
            otherwise they raise. An empty split, or one whose images all lack
            labels, raises naming the split file.
        defer_label_errors: Instead of raising while the list is built, keep an
            image whose labels cannot be read (or, without ``skip_unlabeled``, that
            has none) with the message in ``label_error``, so a per-image consumer
            (tools/gen_pseudo.py) skips and reports that one image.
        img_suffix / seg_map_suffix: File endings of images and masks.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``test_mode`` ...).
    """

    METAINFO: dict = dict()
    #: default folders of ``data_prefix``
    DEFAULT_PREFIX: Dict[str, str] = dict()
    #: label sources this class reads
    LABEL_SOURCES: Sequence[str] = ('mask', 'npy')

    def __init__(self,
                 data_root: str,
                 ann_file: str,
                 label_source: str = 'mask',
                 label_file: Optional[str] = None,
                 with_seg_map: bool = False,
                 data_prefix: Optional[Dict[str, str]] = None,
                 pipeline: Sequence[Callable] = (),
                 skip_unlabeled: bool = True,
                 defer_label_errors: bool = False,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        if label_source not in self.LABEL_SOURCES:
            raise ValueError(f'label_source must be one of {tuple(self.LABEL_SOURCES)}, '
                             f'got {label_source!r}')
        if label_source == 'npy' and not label_file:
            raise ValueError("label_source='npy' needs label_file")
        self.label_source = label_source
        self.label_file = label_file
        self.with_seg_map = with_seg_map
        self.skip_unlabeled = skip_unlabeled
        self.defer_label_errors = defer_label_errors
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        prefix = dict(self.DEFAULT_PREFIX)
        prefix.update(data_prefix or {})
        super().__init__(data_root=data_root, ann_file=ann_file, data_prefix=prefix,
                         pipeline=list(pipeline), **kwargs)

    def label_path(self, img_id: str, seg_map_path: str) -> str:
        """The file the labels of ``img_id`` are read from (named in errors)."""
        return seg_map_path if self.label_source == 'mask' else self.label_file

    def image_labels(self, img_id: str, seg_map_path: str) -> np.ndarray:
        """Multi-hot labels of one image from the configured source."""
        if self.label_source == 'mask':
            return labels_from_mask(seg_map_path, self.metainfo['label_ids'])
        if self._npy_labels is None:
            path = self.label_file
            if not osp.isabs(path) and self.data_root:
                path = osp.join(self.data_root, path)
            self._npy_labels = read_cls_labels(path)
        if img_id not in self._npy_labels:
            raise ValueError(f'image {img_id} has no entry in {self.label_file}')
        labels = self._npy_labels[img_id]
        if labels.shape != (len(self.metainfo['classes']), ):
            raise ValueError(f'labels of {img_id} in {self.label_file} have shape '
                             f'{labels.shape}, expected ({len(self.metainfo["classes"])},)')
        return labels.astype(np.float32)

    def load_data_list(self) -> List[dict]:
        """One entry per split id: ``img_id``, ``img_path``, ``gt_label`` (+ ``seg_map_path``)."""
        self._npy_labels = None
        data_list = []
        #: ids of the split dropped because they have no image-level label
        self.unlabeled_ids: List[str] = []
        split = read_split(self.ann_file)
        if not split:
            raise ValueError(f'split file {self.ann_file} lists no image id')
        for img_id in split:
            seg_map_path = osp.join(self.data_prefix['seg_map_path'],
                                    img_id + self.seg_map_suffix)
            error = None
            try:
                labels = self.image_labels(img_id, seg_map_path)
                if not labels.any():
                    if self.skip_unlabeled:
                        self.unlabeled_ids.append(img_id)
                        continue
                    raise ValueError(f'{self.label_path(img_id, seg_map_path)} has no object '
                                     f'of the {len(self.metainfo["classes"])} classes (image '
                                     f'{img_id} has no image-level labels)')
            except (OSError, ValueError) as err:
                if not self.defer_label_errors:
                    raise
                labels, error = np.zeros(len(self.metainfo['classes']), np.float32), str(err)
            info = dict(img_id=img_id,
                        img_path=osp.join(self.data_prefix['img_path'], img_id + self.img_suffix),
                        gt_label=labels)
            if error is not None:
                info['label_error'] = error
            if self.with_seg_map:
                info['seg_map_path'] = seg_map_path
                info['reduce_zero_label'] = False
                info['seg_fields'] = []
            data_list.append(info)
        self._npy_labels = None
        self._report_unlabeled(len(split), data_list)
        return data_list

    def _report_unlabeled(self, num_listed: int, data_list: List[dict]) -> None:
        """Warn about the images dropped for lack of labels; raise if none is left."""
        if not self.unlabeled_ids:
            return
        listed = ', '.join(self.unlabeled_ids[:10]) + (
            ' ...' if len(self.unlabeled_ids) > 10 else '')
        if not data_list:
            raise ValueError(f'none of the {num_listed} images of split file {self.ann_file} '
                             f'has an image-level label ({listed}): nothing to use')
        warnings.warn(f'split file {self.ann_file}: {len(self.unlabeled_ids)} of {num_listed} '
                      f'images have no image-level label and are left out ({listed})',
                      stacklevel=2)
