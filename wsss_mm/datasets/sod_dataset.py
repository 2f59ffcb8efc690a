"""Salient object detection datasets: images with binary foreground masks.

Two common layouts are covered by the folder and suffix arguments:

- DUTS: ``DUTS-TR/DUTS-TR-Image/*.jpg`` + ``DUTS-TR/DUTS-TR-Mask/*.png``
  (``img_dir='DUTS-TR-Image', mask_dir='DUTS-TR-Mask'``);
- MSRA-B / ECSSD-style: ``*.jpg`` and ``*.png`` side by side in one folder
  (``img_dir=mask_dir='.'``; an empty folder name also means ``data_root``);
- ECSSD: ``images/*.jpg`` + ``masks/*.png`` (``img_dir='images', mask_dir='masks'``),
  a fixed split given as a list of ids (``ann_file``).

Masks are grey-level images (0 background, 255 salient; a few datasets store
anti-aliased edges) and are binarized by :class:`LoadSaliencyAnnotations` to
``gt_seg_map`` values 0 / 1, so mmseg's transforms (Resize, RandomFlip,
RandomCrop, PackSegInputs ...) apply unchanged.
"""
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine import fileio
from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import LoadAnnotations

from wsss_mm.registry import DATASETS, TRANSFORMS

__all__ = ['SalientObjectDataset', 'LoadSaliencyAnnotations']


@DATASETS.register_module()
class SalientObjectDataset(BaseSegDataset):
    """Image + binary mask folders of a salient object dataset.

    Args:
        data_root (str): dataset root, e.g. ``data/DUTS/DUTS-TR``.
        img_dir (str): image folder relative to ``data_root``.
            Defaults to ``'DUTS-TR-Image'``.
        mask_dir (str): mask folder relative to ``data_root`` (may equal
            ``img_dir``). Defaults to ``'DUTS-TR-Mask'``.
        img_suffix (str): image file suffix. Defaults to ``'.jpg'``.
        mask_suffix (str): mask file suffix. Defaults to ``'.png'``.
        ann_file (str): optional text file of image ids (file names without
            suffix), one a line: only these images, in this order (relative
            paths are relative to ``data_root``). Defaults to all images.
        pipeline (Sequence[dict | Callable]): data transforms.
        test_mode (bool): mmengine test mode. Defaults to False.
        indices (int | Sequence[int], optional): keep only these samples
            (an int keeps the first ``indices``).
        lazy_init (bool): defer listing the files. Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    METAINFO = dict(classes=('background', 'salient'), palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 data_root: str,
                 img_dir: str = 'DUTS-TR-Image',
                 mask_dir: str = 'DUTS-TR-Mask',
                 img_suffix: str = '.jpg',
                 mask_suffix: str = '.png',
                 ann_file: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=mask_suffix,
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img_path=img_dir or '.', seg_map_path=mask_dir or '.'),
            pipeline=list(pipeline),
            test_mode=test_mode,
            indices=indices,
            lazy_init=lazy_init,
            backend_args=backend_args)

    def load_data_list(self) -> List[dict]:
        """List the images and check that every one has its mask."""
        if self.ann_file and not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(f'ann_file {self.ann_file} (the list of image ids) not found')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(
                f'no "*{self.img_suffix}" image in {self.data_prefix["img_path"]}')
        missing = [info['seg_map_path'] for info in data_list
                   if not fileio.exists(info['seg_map_path'], backend_args=self.backend_args)]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} image(s) have no mask, e.g. {missing[:3]}')
        if self.ann_file:
            absent = [info['img_path'] for info in data_list
                      if not fileio.exists(info['img_path'], backend_args=self.backend_args)]
            if absent:
                raise FileNotFoundError(f'{len(absent)} image(s) listed in {self.ann_file} '
                                        f'do not exist, e.g. {absent[:3]}')
        return data_list


@TRANSFORMS.register_module()
class LoadSaliencyAnnotations(LoadAnnotations):
    """Load a saliency mask as a 0/1 ``gt_seg_map`` (mask >= threshold → 1).

    Multi-channel masks are reduced to the maximum over their colour channels
    (an alpha channel is left out) first.

    Args:
        threshold (int): grey level from which a pixel is salient.
            Defaults to 128.
        backend_args (dict, optional): mmengine file backend arguments.
        imdecode_backend (str): mmcv image decoding backend.
            Defaults to ``'pillow'``.
    """

    def __init__(self, threshold: int = 128, backend_args: Optional[dict] = None,
                 imdecode_backend: str = 'pillow') -> None:
        super().__init__(backend_args=backend_args, imdecode_backend=imdecode_backend)
        self.threshold = threshold

    def _load_seg_map(self, results: dict) -> None:
        super()._load_seg_map(results)
        mask = results['gt_seg_map']
        if mask.ndim == 3:
            num_colors = 1 if mask.shape[2] == 2 else 3
            mask = mask[..., :num_colors].max(axis=2)
        results['gt_seg_map'] = (mask >= self.threshold).astype(np.uint8)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(threshold={self.threshold}, '
                f"imdecode_backend='{self.imdecode_backend}', backend_args={self.backend_args})")
