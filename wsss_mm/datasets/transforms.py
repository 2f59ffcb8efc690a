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


@TRANSFORMS.register_module()
class RandomPlacePad(BaseTransform):
    """Place the image (and ``gt_seg_map``) at a random offset in a ``size`` container.

    IRN's ``random_crop`` pads a side shorter than the crop at a random offset,
    with 0 in the normalized image, i.e. the mean colour; mmcv's ``Pad`` pads at
    the bottom / right. The image becomes float32 so that a mean of e.g. 123.675
    is kept exactly (the data preprocessor then maps it to 0, as IRN).

    Args:
        size: ``(height, width)`` of the container; the image must not exceed it
            (crop it first, e.g. ``RandomCrop``).
        img_pad_val: Fill of the image, one value per channel in the loaded
            image's order (BGR for ``LoadImageFromFile``).
        seg_pad_val: Fill of ``gt_seg_map``.
    """

    def __init__(self, size: Sequence[int], img_pad_val: Sequence[float],
                 seg_pad_val: int = 255) -> None:
        self.size = tuple(int(s) for s in size)
        self.img_pad_val = tuple(float(v) for v in img_pad_val)
        self.seg_pad_val = seg_pad_val
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f'size must be (height, width) > 0, got {size}')

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        if height > self.size[0] or width > self.size[1]:
            raise ValueError(f'{results.get("img_path", "image")}: {height}x{width} exceeds the '
                             f'pad size {self.size}; crop it first')
        top = np.random.randint(self.size[0] - height + 1)
        left = np.random.randint(self.size[1] - width + 1)
        if len(self.img_pad_val) != img.shape[2]:
            raise ValueError(f'img_pad_val has {len(self.img_pad_val)} values for '
                             f'{img.shape[2]} channels')
        container = np.empty((*self.size, img.shape[2]), np.float32)
        container[...] = self.img_pad_val
        container[top:top + height, left:left + width] = img
        results['img'] = container
        if 'gt_seg_map' in results:
            seg = results['gt_seg_map']
            padded = np.full(self.size, self.seg_pad_val, seg.dtype)
            padded[top:top + height, left:left + width] = seg
            results['gt_seg_map'] = padded
        results['img_shape'] = self.size
        results['pad_shape'] = self.size
        results['pad_offset'] = (top, left)
        return results
