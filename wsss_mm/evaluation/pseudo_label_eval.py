"""Score the artifacts of tools/gen_pseudo.py against ground-truth masks.

* pseudo labels: confusion matrix over the dataset's label values → mIoU, per-class
  IoU, precision, recall;
* CAMs: argmax over [background threshold, CAMs], at a fixed threshold (0.15 as
  IRN) and over a sweep (best threshold and the curve, as SEAM);
* saliency: MAE and max F-measure (β² = 0.3) against the GT foreground;
* Algorithm 1 over a grid of (γ1, γ2) from the stored CAMs and saliency (the thresholds
  chosen on a split with GT, e.g. val, for labelling another, e.g. train), and the
  saliency-only ablation (attention maps set to zero: every salient pixel goes to the
  image's first class).

``items`` are ``(image id, GT mask path)`` pairs (a dataset's ``img_id`` and
``seg_map_path``); ``class_names`` name the label values ``0..K-1``
(``metainfo['seg_classes']``); GT 255 is ignored.
"""
from itertools import product
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from wsss_mm.evaluation.label_checks import check_label_values, check_same_size
from wsss_mm.evaluation.segmentation_scores import (confusion_matrix, labels_at_threshold,
                                                    scores_from_confusion)
from wsss_mm.evaluation.sod_metric import f_measure_curve
from wsss_mm.io import WorkDirLayout, read_cams, read_label_map, read_saliency
from wsss_mm.pseudo.saliency_fusion_refiner import SaliencyFusionRefiner

__all__ = ['evaluate_pseudo_labels', 'evaluate_cams', 'evaluate_saliency', 'evaluate_fusion',
           'format_table', 'FUSION_GAMMA1', 'FUSION_GAMMA2']

#: the default grid of :func:`evaluate_fusion` (the paper's 0.2 / 0.06 included)
FUSION_GAMMA1 = tuple(np.round(np.arange(0.05, 0.61, 0.05), 2))
FUSION_GAMMA2 = (0.06, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)

Items = Sequence[Tuple[str, str]]


def _label_tensor(path: str, num_classes: int) -> torch.Tensor:
    """A label map [H, W] int64 whose values are classes or 255 (else an error naming it)."""
    return check_label_values(torch.from_numpy(read_label_map(path).astype(np.int64)), path,
                              num_classes)


def evaluate_pseudo_labels(layout: WorkDirLayout, items: Items,
                           class_names: Sequence[str]) -> Dict[str, object]:
    """mIoU etc. of the stored pseudo labels against the GT masks."""
    k = len(class_names)
    conf = torch.zeros(k, k + 1, dtype=torch.int64)
    for img_id, gt_path in items:
        pred_path = layout.path('pseudo', img_id)
        pred, gt = _label_tensor(pred_path, k), _label_tensor(gt_path, k)
        check_same_size(pred, pred_path, gt, gt_path)
        conf += confusion_matrix(pred, gt, k)
    return scores_from_confusion(conf, class_names)


def evaluate_cams(layout: WorkDirLayout, items: Items, class_names: Sequence[str],
                  thresholds: Sequence[float] = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2)),
                  fixed_threshold: float = 0.15) -> Dict[str, object]:
    """Stored CAMs' quality at a fixed background threshold and over a sweep."""
    k = len(class_names)
    all_thresholds = sorted(set(float(t) for t in thresholds) | {fixed_threshold})
    confs = {t: torch.zeros(k, k + 1, dtype=torch.int64) for t in all_thresholds}
    for img_id, gt_path in items:
        cam_path = layout.path('cam', img_id)
        cams, class_ids = read_cams(cam_path)
        gt = _label_tensor(gt_path, k)
        check_same_size(cams, cam_path, gt, gt_path)
        best, index = cams.max(0)
        best_id = torch.from_numpy(class_ids.astype(np.int64))[index]
        for t in all_thresholds:
            confs[t] += confusion_matrix(labels_at_threshold(best, best_id, t), gt, k)
    curve = {t: scores_from_confusion(c, class_names)['mIoU'] for t, c in confs.items()}
    best = max(curve, key=curve.get)
    return dict(fixed_threshold=fixed_threshold,
                fixed=scores_from_confusion(confs[fixed_threshold], class_names),
                best_threshold=best,
                best=scores_from_confusion(confs[best], class_names),
                curve={f'{t:.2f}': v for t, v in curve.items()})


def evaluate_saliency(layout: WorkDirLayout, items: Items, num_classes: int,
                      beta2: float = 0.3) -> Dict[str, float]:
    """MAE and max F-measure of the stored 8-bit saliency against the GT foreground.

    Same definitions as :class:`~wsss_mm.evaluation.SaliencyMetric`: per-image MAE
    and F-measure curves over the 256 levels, averaged over images; max F is the
    maximum of the mean curve. Foreground is every GT value but 0; 255 is ignored.
    """
    maes, curves = [], []
    for img_id, gt_path in items:
        sal_path = layout.path('saliency', img_id)
        sal = torch.from_numpy(read_saliency(sal_path)).double() / 255
        gt = _label_tensor(gt_path, num_classes)
        check_same_size(sal, sal_path, gt, gt_path)
        valid = gt != 255
        fg = (gt > 0)[valid]
        maes.append(float((sal[valid] - fg.double()).abs().mean()))
        curves.append(f_measure_curve(sal[valid], fg, beta2))
    return dict(MAE=float(np.mean(maes)), maxF=float(torch.stack(curves).mean(0).max()))


def evaluate_fusion(layout: WorkDirLayout, items: Items, class_names: Sequence[str],
                    gamma1s: Sequence[float] = FUSION_GAMMA1,
                    gamma2s: Sequence[float] = FUSION_GAMMA2, attention: bool = True,
                    refiner: Optional[dict] = None) -> Dict[str, object]:
    """Algorithm 1 on the stored CAMs and saliency at every (γ1, γ2) of the grid.

    ``refiner``: the other :class:`~wsss_mm.pseudo.SaliencyFusionRefiner` arguments
    (a config's ``refiner`` without ``type``, ``gamma1`` and ``gamma2``);
    ``attention=False`` scores saliency alone (CAMs set to zero). Returns ``grid``
    (``{'gamma1', 'gamma2', 'mIoU'}`` per pair, grid order) and ``best`` (the first
    pair of the highest mIoU, with its scores).
    """
    k = len(class_names)
    options = {key: value for key, value in (refiner or {}).items()
               if key not in ('type', 'gamma1', 'gamma2')}
    pairs = [(float(g1), float(g2)) for g1, g2 in product(gamma1s, gamma2s)]
    fusers = [SaliencyFusionRefiner(gamma1=g1, gamma2=g2, **options) for g1, g2 in pairs]
    confs = [torch.zeros(k, k + 1, dtype=torch.int64) for _ in pairs]
    for img_id, gt_path in items:
        cam_path, sal_path = layout.path('cam', img_id), layout.path('saliency', img_id)
        cams, class_ids = read_cams(cam_path)
        saliency = read_saliency(sal_path)
        gt = _label_tensor(gt_path, k)
        check_same_size(cams, cam_path, gt, gt_path)
        if not attention:
            cams = torch.zeros_like(cams)
        for fuser, conf in zip(fusers, confs):
            pred = torch.from_numpy(fuser.refine(cams, class_ids, None, saliency).astype(np.int64))
            conf += confusion_matrix(pred, gt, k)
    scores = [scores_from_confusion(conf, class_names) for conf in confs]
    best = max(range(len(pairs)), key=lambda i: (scores[i]['mIoU'], -i))
    return dict(grid=[dict(gamma1=g1, gamma2=g2, mIoU=score['mIoU'])
                      for (g1, g2), score in zip(pairs, scores)],
                best=dict(gamma1=pairs[best][0], gamma2=pairs[best][1], **scores[best]))


def format_table(rows: List[List[str]], header: List[str]) -> str:
    """A GitHub markdown table."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)
