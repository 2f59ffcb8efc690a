"""Confident foreground / background regions of CAMs: the labels IRNet learns from.

IRN (Ahn et al., CVPR 2019, §3.2; ``step/cam_to_ir_label.py``): a pixel is
confident foreground of class c where ``c = argmax`` of the CAMs and its CAM
exceeds ``fg_threshold`` (a tie goes to background, as IRN's argmax); it is
confident background where every CAM is below ``bg_threshold``. Each of the
two argmax maps is first refined by a dense CRF on the image (unary from hard
labels, ``gt_prob`` on the label); a pixel is foreground where the refined
high-threshold map says so, background where both refined maps say
background, and ``ignore_index`` elsewhere.
"""
from typing import Optional, Sequence, Union

import numpy as np

from wsss_mm.postprocess.dense_crf import DenseCRF
from wsss_mm.registry import PSEUDO_LABEL_FUSERS

__all__ = ['RelationLabelGenerator', 'irn_label_crf']


def irn_label_crf() -> DenseCRF:
    """The CRF IRN applies to hard CAM labels (``misc/imutils.crf_inference_label``)."""
    return DenseCRF(iterations=10, gaussian_sxy=3, gaussian_compat=3, bilateral_sxy=50,
                    bilateral_srgb=5, bilateral_compat=10)


@PSEUDO_LABEL_FUSERS.register_module()
class RelationLabelGenerator:
    """CAMs of an image -> label map of confident foreground, background and ignored pixels.

    Args:
        fg_threshold: CAM value from which the argmax class is confident
            foreground (IRN: 0.30).
        bg_threshold: Background where every CAM is below this (IRN: 0.05).
        crf: Dense CRF that refines each thresholded argmax map (IRN's:
            :func:`irn_label_crf`); ``None`` uses the thresholded maps as they are.
        gt_prob: Probability the CRF unary gives the thresholded label; the
            other ``n`` labels share ``1 - gt_prob`` (pydensecrf's
            ``unary_from_labels``; IRN: 0.7).
        ignore_index: Label of the unconfident pixels.
    """

    def __init__(self,
                 fg_threshold: float = 0.30,
                 bg_threshold: float = 0.05,
                 crf: Optional[DenseCRF] = None,
                 gt_prob: float = 0.7,
                 ignore_index: int = 255) -> None:
        if not 0 <= bg_threshold <= fg_threshold:
            raise ValueError(f'need 0 <= bg_threshold <= fg_threshold, got {bg_threshold} '
                             f'and {fg_threshold}')
        if not 0 < gt_prob < 1:
            raise ValueError(f'gt_prob must be in (0, 1), got {gt_prob}')
        self.fg_threshold = fg_threshold
        self.bg_threshold = bg_threshold
        self.crf = crf
        self.gt_prob = gt_prob
        self.ignore_index = ignore_index

    def _thresholded(self, image: Optional[np.ndarray], cams: np.ndarray,
                     threshold: float) -> np.ndarray:
        """Index map ``[H, W]`` in 0..K: 0 where all CAMs < threshold, else 1 + argmax."""
        scores = np.concatenate([np.full((1, *cams.shape[1:]), threshold, cams.dtype), cams])
        index = scores.argmax(axis=0)
        num_labels = scores.shape[0]
        if self.crf is None or num_labels == 1:
            return index
        probs = np.full(scores.shape, (1 - self.gt_prob) / (num_labels - 1), np.float32)
        np.put_along_axis(probs, index[None], self.gt_prob, axis=0)
        return self.crf(image, probs).argmax(axis=0)

    def __call__(self, cams: np.ndarray, class_ids: Union[Sequence[int], np.ndarray],
                 image: Optional[np.ndarray] = None) -> np.ndarray:
        """Relation label map of one image.

        Args:
            cams: ``[K, H, W]`` float CAMs of the image's classes in [0, 1].
            class_ids: ``[K]`` label value of each CAM (the dataset's, e.g. VOC 1..20).
            image: ``[H, W, 3]`` uint8 RGB image (needed with a CRF).

        Returns:
            uint8 ``[H, W]``: class ids, 0 (background) or ``ignore_index``.
        """
        class_ids = np.asarray(class_ids)
        if cams.ndim != 3 or class_ids.shape != cams.shape[:1]:
            raise ValueError(f'expected cams [K, H, W] and class_ids [K], got {cams.shape} '
                             f'and {class_ids.shape}')
        if self.crf is not None and (image is None or image.shape[:2] != cams.shape[1:]):
            raise ValueError(f'the CRF needs the [H, W, 3] image of the CAMs {cams.shape}, got '
                             f'{None if image is None else image.shape}')
        values = np.concatenate([[0], class_ids]).astype(np.uint8)
        fg = self._thresholded(image, cams, self.fg_threshold)
        bg = self._thresholded(image, cams, self.bg_threshold)
        labels = np.full(cams.shape[1:], self.ignore_index, np.uint8)
        labels[fg > 0] = values[fg[fg > 0]]
        labels[(fg == 0) & (bg == 0)] = 0
        return labels

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(fg_threshold={self.fg_threshold}, '
                f'bg_threshold={self.bg_threshold}, crf={self.crf!r}, gt_prob={self.gt_prob}, '
                f'ignore_index={self.ignore_index})')
