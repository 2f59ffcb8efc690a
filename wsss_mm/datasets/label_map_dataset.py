"""Images + label maps (GT masks or pseudo labels) for the segmentor, for any dataset.

The classes and colours are those of a registered image-level dataset
(:class:`~wsss_mm.datasets.ImageLevelDataset` subclass), so stage 4 trains on the
pseudo labels of tools/gen_pseudo.py and is evaluated on the GT masks with the same
label values, e.g. the 81 values of COCO.
"""
import os.path as osp
from typing import Optional

from mmseg.datasets import BaseSegDataset

from wsss_mm.registry import DATASETS

__all__ = ['LabelMapDataset']


@DATASETS.register_module()
class LabelMapDataset(BaseSegDataset):
    """mmseg segmentation data named by a split file, with an image-level dataset's metainfo.

    Args:
        image_level_dataset: Registered type whose ``METAINFO`` gives ``seg_classes``
            (the names of the label values) and ``palette``, e.g.
            ``'COCOImageLevelDataset'``.
        img_dir: Image folder under ``data_root``.
        label_dir: Label folder: GT masks under ``data_root``, or pseudo labels (an
            absolute path or one relative to the current directory, like ``work_dirs/``;
            set ``label_dir_in_data_root=False``).
        label_dir_in_data_root: Whether ``label_dir`` is relative to ``data_root``.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments (``data_root``,
            ``ann_file``, ``pipeline`` ...).
    """

    def __init__(self,
                 image_level_dataset: str,
                 img_dir: str,
                 label_dir: str,
                 label_dir_in_data_root: bool = True,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        source = DATASETS.get(image_level_dataset)
        if source is None:
            raise KeyError(f'image_level_dataset {image_level_dataset!r} is not registered')
        classes = source.METAINFO['seg_classes']
        meta = dict(classes=classes, palette=source.METAINFO['palette'][:len(classes)])
        meta.update(metainfo or {})
        if not label_dir_in_data_root:
            label_dir = osp.abspath(label_dir)
        kwargs.setdefault('img_suffix', '.jpg')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(metainfo=meta, data_prefix=dict(img_path=img_dir, seg_map_path=label_dir),
                         **kwargs)
