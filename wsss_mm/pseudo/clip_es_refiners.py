"""CLIP-ES's refinements (Lin et al., CVPR 2023): class-aware attention affinity (CAA)
and its dense CRF with a confidence threshold.

The seeds and CAA maps become labels as CLIP-ES evaluates them (``eval_cam.py``):
background score ``(1 - max_c M_c)^bg_power`` (power 2), argmax. The CRF refiner is
``eval_cam_with_crf.py``: background ``1 - max``, DeepLab's dense CRF, argmax, pixels
whose CRF probability is below 0.95 ignored (255).
"""
from typing import Dict, Optional, Sequence, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.cam import min_max_maps
from wsss_mm.io import quantize_cams
from wsss_mm.postprocess.dense_crf import DenseCRF
from wsss_mm.registry import POSTPROCESSORS, REFINERS
from .base_refiner import BaseRefiner

__all__ = ['cam_box_mask', 'caa_transition', 'caa_refine', 'BgPowerRefiner', 'CAARefiner',
           'ClipESCRFRefiner']


def cam_box_mask(grid_cam: np.ndarray, threshold: float) -> np.ndarray:
    """``[h, w]`` 0/1 mask of the boxes around the CAM's regions (CLIP-ES ``scoremap2bbox``).

    The map ``[h, w]`` in [0, 1] is quantized to 8 bits, thresholded at
    ``int(threshold · max)`` (strictly above), and every contour (``cv2.findContours``,
    ``RETR_TREE``) gives its bounding box ``[x0, x1) × [y0, y1)`` with the far edges
    clipped to ``w - 1`` / ``h - 1`` (as CLIP-ES, which so leaves out the last row and
    column).
    """
    height, width = grid_cam.shape
    quantized = (grid_cam * 255).astype(np.uint8)
    _, binary = cv2.threshold(quantized, int(threshold * quantized.max()), 255,
                              cv2.THRESH_BINARY)
    contours = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[-2]
    mask = np.zeros((height, width), dtype=np.float32)
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        mask[y:min(y + h, height - 1), x:min(x + w, width - 1)] = 1
    return mask


def caa_transition(affinity: Tensor, sinkhorn_rounds: int = 3, power: int = 2) -> Tensor:
    """``[n, n]`` affinity -> CAA's transition: ``sinkhorn_rounds`` times columns then rows
    normalized to sum 1, symmetrized, raised to the matrix ``power``."""
    t = affinity
    for _ in range(sinkhorn_rounds):
        t = t / t.sum(dim=0, keepdim=True)
        t = t / t.sum(dim=1, keepdim=True)
    t = (t + t.T) / 2
    return torch.linalg.matrix_power(t, power)


def caa_refine(affinity: Tensor, grid_cams: Tensor, box_threshold: float = 0.4,
               sinkhorn_rounds: int = 3, power: int = 2) -> Tensor:
    """CAA maps ``[K, h, w]``: ``T · (box mask_k ⊙ CAM_k)`` per class, min-max normalized.

    Args:
        affinity: ``[h·w, h·w]`` mean attention weights (row i: where patch i attends).
        grid_cams: ``[K, h, w]`` seeds on the patch grid, in [0, 1].
        box_threshold, sinkhorn_rounds, power: CLIP-ES's 0.4, 3, 2.
    """
    k, h, w = grid_cams.shape
    transition = caa_transition(affinity, sinkhorn_rounds, power)
    masks = np.stack([cam_box_mask(m, box_threshold) for m in grid_cams.cpu().numpy()])
    masks = torch.from_numpy(masks).to(grid_cams)
    sources = (masks * grid_cams).reshape(k, h * w)
    return min_max_maps((transition @ sources.T).T.reshape(k, h, w))


@REFINERS.register_module()
class BgPowerRefiner(BaseRefiner):
    """Label = argmax over ``[(1 - max_c CAM_c)^bg_power, CAMs]`` (CLIP-ES's evaluation of
    its seeds; ties go to the background).

    Args:
        bg_power: Exponent of the background score (CLIP-ES ``cam_eval_thres``: 2).
    """

    def __init__(self, bg_power: float = 2.0) -> None:
        self.bg_power = float(bg_power)

    def labels(self, maps: Tensor, class_ids: Union[Sequence[int], np.ndarray]) -> np.ndarray:
        """``[H, W]`` label values of maps ``[K, H, W]``."""
        values = np.concatenate([[0], np.asarray(class_ids)]).astype(np.uint8)
        maps = maps.float()
        background = (1 - maps.amax(dim=0, keepdim=True))**self.bg_power
        return values[torch.cat([background, maps]).argmax(0).numpy()]

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        return self.labels(cams, class_ids)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bg_power={self.bg_power})'


@REFINERS.register_module()
class CAARefiner(BgPowerRefiner):
    """CLIP-ES's class-aware attention affinity on the seeds, labels as
    :class:`BgPowerRefiner`. Reads the ``'affinity'`` cue (affinity + grid seeds).

    Args:
        box_threshold: CAM threshold of the box masks (0.4).
        sinkhorn_rounds: Column-then-row normalization rounds (3).
        power: Matrix power of the symmetrized transition (2).
        bg_power: As :class:`BgPowerRefiner`.
        device: Where the matrices are multiplied (default: CUDA when available).
    """

    cue = 'affinity'

    def __init__(self, box_threshold: float = 0.4, sinkhorn_rounds: int = 3, power: int = 2,
                 bg_power: float = 2.0, device: Optional[str] = None) -> None:
        super().__init__(bg_power)
        if sinkhorn_rounds < 1 or power < 1:
            raise ValueError(f'sinkhorn_rounds and power must be >= 1, got {sinkhorn_rounds}, '
                             f'{power}')
        self.box_threshold = float(box_threshold)
        self.sinkhorn_rounds = int(sinkhorn_rounds)
        self.power = int(power)
        self.device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))

    def refined_maps(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
                     cue: Dict[str, np.ndarray]) -> Tensor:
        """``[K, H, W]`` CAA maps at the seeds' size (bilinear), stored precision (float16)."""
        grid_cams = torch.from_numpy(cue['grid_cams']).to(self.device)
        if grid_cams.shape[0] != len(class_ids):
            raise ValueError(f'the affinity cue holds {grid_cams.shape[0]} grid seeds, the '
                             f'seeds {len(class_ids)} classes')
        affinity = torch.from_numpy(cue['affinity']).to(self.device)
        refined = caa_refine(affinity, grid_cams, self.box_threshold, self.sinkhorn_rounds,
                             self.power)
        refined = F.interpolate(refined[None], size=tuple(cams.shape[-2:]), mode='bilinear',
                                align_corners=False)[0]
        return quantize_cams(refined.cpu())

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[Dict[str, np.ndarray]]) -> np.ndarray:
        return self.labels(self.refined_maps(cams, class_ids, cue), class_ids)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(box_threshold={self.box_threshold}, '
                f'sinkhorn_rounds={self.sinkhorn_rounds}, power={self.power}, '
                f'bg_power={self.bg_power})')


@REFINERS.register_module()
class ClipESCRFRefiner(BaseRefiner):
    """CLIP-ES's pseudo masks: ``[1 - max, maps]`` -> dense CRF -> argmax, pixels whose CRF
    probability is below ``confidence`` -> 255.

    Args:
        crf: The dense CRF or its config (CLIP-ES: 10 iterations, Gaussian 1 / 3,
            bilateral 67 / 3 / 4 = :class:`DenseCRF`'s ``'deeplab'`` preset).
        confidence: Minimum CRF probability of a kept label (0.95).
        caa: A :class:`CAARefiner` (or config) whose maps the CRF refines; None refines
            the seeds themselves.
    """

    def __init__(self, crf: Union[DenseCRF, dict], confidence: float = 0.95,
                 caa: Optional[Union[CAARefiner, dict]] = None) -> None:
        self.crf = POSTPROCESSORS.build(crf) if isinstance(crf, dict) else crf
        self.confidence = float(confidence)
        self.caa = REFINERS.build(caa) if isinstance(caa, dict) else caa
        self.cue = None if self.caa is None else self.caa.cue
        #: where the CAA matrices are multiplied (None: the CPU only)
        self.device = None if self.caa is None else self.caa.device

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[Dict[str, np.ndarray]]) -> np.ndarray:
        maps = cams if self.caa is None else self.caa.refined_maps(cams, class_ids, cue)
        maps = maps.float().numpy()
        probs = np.concatenate([1 - maps.max(axis=0, keepdims=True), maps])
        marginals = self.crf(image, probs)
        values = np.concatenate([[0], np.asarray(class_ids)]).astype(np.uint8)
        labels = values[marginals.argmax(axis=0)]
        labels[marginals.max(axis=0) < self.confidence] = 255
        return labels

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crf={self.crf!r}, confidence={self.confidence}, '
                f'caa={self.caa!r})')
