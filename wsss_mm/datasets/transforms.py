"""Transforms for image-level data."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from wsss_mm.io import InputError, check_image_header, read_rgb
from wsss_mm.registry import TRANSFORMS


@TRANSFORMS.register_module(name='LoadImageFromFile')
class LoadImageChecked(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same decoder, same pixels) behind :func:`read_rgb`'s
    checks of the file header: a decompression bomb (over ``Image.MAX_IMAGE_PIXELS``),
    an empty, missing or unknown file, or a decoder failure raise
    :class:`~wsss_mm.io.InputError` naming the file instead of an OpenCV error.

    Registered as ``LoadImageFromFile`` in the ``wsss_mm`` scope, so every config of
    this project (``default_scope='wsss_mm'``) trains and tests through it unchanged.
    """

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        check_image_header(path)
        try:
            return super().transform(results)
        except Exception as err:  # cv2 / mmcv decoder errors name no file
            raise InputError(f'cannot read image {path}: {type(err).__name__}: {err}') from err


@TRANSFORMS.register_module()
class LoadImageStrict(BaseTransform):
    """Load ``img_path`` fully decoded (Pillow), as mmcv's ``LoadImageFromFile`` would:
    BGR uint8 [H, W, 3], with ``img_shape`` and ``ori_shape``.

    Unlike mmcv's loader, a truncated or unreadable file raises
    :class:`~wsss_mm.io.InputError` naming the file, so a pseudo-label job can stop
    or skip and report it.
    """

    def transform(self, results: dict) -> dict:
        img = np.ascontiguousarray(read_rgb(results['img_path'])[..., ::-1])
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class PackMultiLabelInputs(BaseTransform):
    """Pack an image and its multi-hot ``gt_label`` (and mask, if loaded).

    Produces ``inputs`` (C×H×W uint8 tensor) and a :class:`SegDataSample` whose
    ``gt_label`` field is the multi-hot float tensor; a loaded ``gt_seg_map``
    becomes ``gt_sem_seg`` so the same samples serve CAM evaluation.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_id', 'img_path', 'seg_map_path', 'ori_shape',
                                             'img_shape', 'pad_shape', 'scale_factor', 'flip',
                                             'flip_direction')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = SegDataSample()
        sample.set_field(torch.as_tensor(results['gt_label'], dtype=torch.float32), 'gt_label')
        if 'gt_seg_map' in results:
            seg = torch.from_numpy(results['gt_seg_map'].astype(np.int64))[None]
            sample.gt_sem_seg = PixelData(data=seg)
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=sample)
