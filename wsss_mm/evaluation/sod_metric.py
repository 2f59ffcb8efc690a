"""Salient object detection metrics: MAE and maximum F-measure."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from torch import Tensor

from wsss_mm.registry import METRICS

__all__ = ['SaliencyMetric', 'f_measure_curve']


def f_measure_curve(saliency: Tensor, mask: Tensor, beta2: float = 0.3) -> Tensor:
    """F-measure of one map at the 256 thresholds ``k = 0..255``.

    The map is quantized to 8 bits as when stored as a PNG,
    ``q = round(255 s)`` (so a stored map read back as ``q / 255`` keeps its
    levels), and ``q >= k`` is predicted salient. Precision with
    no predicted pixel, recall with no salient pixel and F with
    ``P = R = 0`` count as 0.

    Args:
        saliency (Tensor): ``[N]`` saliency values in ``[0, 1]``.
        mask (Tensor): ``[N]`` bool ground truth.
        beta2 (float): ``beta^2`` of the F-measure. Defaults to 0.3.

    Returns:
        Tensor: ``[256]`` float64, index ``k`` = threshold ``k``.
    """
    levels = (saliency.double().clamp(0, 1) * 255).round().long()
    counts = torch.bincount(levels, minlength=256)
    fg_counts = torch.bincount(levels[mask], minlength=256)
    # Reverse cumulative sums: number of pixels with level >= k.
    predicted = counts.flip(0).cumsum(0).flip(0).double()
    true_pos = fg_counts.flip(0).cumsum(0).flip(0).double()
    precision = true_pos / predicted.clamp(min=1)
    recall = true_pos / max(int(mask.sum()), 1)
    denominator = beta2 * precision + recall
    return torch.where(denominator > 0,
                       (1 + beta2) * precision * recall / denominator.clamp(min=1e-12),
                       torch.zeros_like(denominator))


@METRICS.register_module()
class SaliencyMetric(BaseMetric):
    """Mean absolute error and maximum F-measure of saliency maps.

    Per image: the MAE ``mean |S - G|`` and the F-measure curve over 256
    thresholds (:func:`f_measure_curve`), pixels whose mask equals
    ``ignore_index`` left out. Over the dataset: the mean MAE, and the
    maximum over thresholds of the per-threshold mean F-measure (the
    convention of the common SOD evaluation toolboxes). The saliency is
    taken as predicted (no per-map min-max rescaling).

    Reads ``pred_saliency`` (``[1, H, W]`` in ``[0, 1]``) and ``gt_sem_seg``
    (``[1, H, W]``, 0/1) of each data sample, as produced by
    :class:`~wsss_mm.saliency.SaliencyDetector` and
    :class:`~wsss_mm.datasets.LoadSaliencyAnnotations`.

    Args:
        beta2 (float): ``beta^2`` of the F-measure. Defaults to 0.3.
        ignore_index (int): mask value excluded. Defaults to 255.
        collect_device (str): device for collecting results across ranks.
        prefix (str, optional): prefix of the metric names.
    """

    default_prefix: Optional[str] = 'sod'

    def __init__(self, beta2: float = 0.3, ignore_index: int = 255,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.beta2 = beta2
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the MAE and F-measure curve of every image of the batch."""
        for sample in data_samples:
            saliency = sample['pred_saliency']['data'].squeeze(0).float().cpu()
            mask = sample['gt_sem_seg']['data'].squeeze(0).cpu()
            if saliency.shape != mask.shape:
                raise ValueError(f'saliency {tuple(saliency.shape)} and mask '
                                 f'{tuple(mask.shape)} differ in size')
            valid = mask != self.ignore_index
            saliency, mask = saliency[valid], mask[valid] == 1
            mae = (saliency - mask.float()).abs().mean().item() if saliency.numel() else 0.0
            self.results.append((mae, f_measure_curve(saliency, mask, self.beta2)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Mean MAE and max of the mean F-measure curve."""
        maes = torch.tensor([mae for mae, _ in results], dtype=torch.float64)
        curves = torch.stack([curve for _, curve in results])
        return dict(MAE=maes.mean().item(), maxF=curves.mean(0).max().item())
