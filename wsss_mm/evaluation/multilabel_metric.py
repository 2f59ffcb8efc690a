"""Multi-label classification metric for the stage-1 classifier (mAP and F1)."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from wsss_mm.registry import METRICS


def average_precision(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-class non-interpolated AP (area under the precision-recall steps).

    Args:
        scores: [N, C] scores. targets: [N, C] 0/1.

    Returns:
        [C] AP, NaN for classes without positives. Ties are broken by the
        stable sort order of the scores (descending).
    """
    order = torch.argsort(scores, dim=0, descending=True, stable=True)
    hits = torch.gather(targets.float(), 0, order)
    true_pos = hits.cumsum(0)
    ranks = torch.arange(1, scores.shape[0] + 1, dtype=torch.float32)[:, None]
    precision = true_pos / ranks
    num_pos = hits.sum(0)
    ap = (precision * hits).sum(0) / num_pos
    return torch.where(num_pos > 0, ap, torch.full_like(ap, float('nan')))


@METRICS.register_module()
class MultiLabelMetric(BaseMetric):
    """mAP over classes, and precision / recall / F1 at a score threshold.

    Precision, recall and F1 are macro-averaged over classes that have positives
    (the usual multi-label classification report).

    Args:
        threshold: Probability above which a class counts as predicted.
    """
    default_prefix = 'cls'

    def __init__(self, threshold: float = 0.5, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.threshold = threshold

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            score = sample['pred_score'] if isinstance(sample, dict) else sample.pred_score
            label = sample['gt_label'] if isinstance(sample, dict) else sample.gt_label
            self.results.append((score.float().cpu(), label.float().cpu()))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        scores = torch.stack([r[0] for r in results])
        targets = torch.stack([r[1] for r in results])
        present = targets.sum(0) > 0
        pred = scores > self.threshold
        tp = (pred & (targets > 0)).sum(0).float()
        precision = tp / pred.sum(0).clamp(min=1)
        recall = tp / targets.sum(0).clamp(min=1)
        f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
        ap = average_precision(scores, targets)
        return dict(mAP=float(ap[present].mean() * 100),
                    precision=float(precision[present].mean() * 100),
                    recall=float(recall[present].mean() * 100),
                    F1=float(f1[present].mean() * 100))


__all__ = ['MultiLabelMetric', 'average_precision']
