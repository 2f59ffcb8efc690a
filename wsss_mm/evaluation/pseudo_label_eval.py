"""Score the files written by tools/gen_pseudo.py against ground-truth masks.

* pseudo labels: 21-class confusion matrix → mIoU, per-class IoU, precision, recall;
* CAMs: argmax over [background threshold, CAMs], at a fixed threshold (0.15 as
  IRN) and over a sweep (best threshold and the curve, as SEAM);
* saliency: MAE and max F-measure (β² = 0.3) against the GT foreground.
"""
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
import torch
from PIL import Image

from wsss_mm.datasets.voc import VOC_SEG_CLASSES
from wsss_mm.evaluation.label_checks import check_label_values, check_same_size
from wsss_mm.evaluation.segmentation_scores import (confusion_matrix, labels_at_threshold,
                                                    scores_from_confusion)
from wsss_mm.evaluation.sod_metric import f_measure_curve

NUM_CLASSES = len(VOC_SEG_CLASSES)


def read_label_png(path: str) -> torch.Tensor:
    """A label PNG as an int64 tensor; a missing or unreadable file names itself."""
    try:
        return torch.from_numpy(np.asarray(Image.open(path)).astype(np.int64))
    except OSError as err:
        raise ValueError(f'cannot read label map {path}: {err}') from err


def evaluate_label_dir(pred_dir: str, gt_dir: str, ids: Sequence[str]) -> Dict[str, object]:
    """mIoU etc. of ``pred_dir/<id>.png`` against ``gt_dir/<id>.png`` (255 ignored)."""
    conf = torch.zeros(NUM_CLASSES, NUM_CLASSES + 1, dtype=torch.int64)
    for img_id in ids:
        pred_path = osp.join(pred_dir, img_id + '.png')
        gt_path = osp.join(gt_dir, img_id + '.png')
        pred = check_label_values(read_label_png(pred_path), pred_path, NUM_CLASSES)
        gt = check_label_values(read_label_png(gt_path), gt_path, NUM_CLASSES)
        check_same_size(pred, pred_path, gt, gt_path)
        conf += confusion_matrix(pred, gt, NUM_CLASSES)
    return scores_from_confusion(conf, VOC_SEG_CLASSES)


def evaluate_cam_dir(cam_dir: str, gt_dir: str, ids: Sequence[str],
                     thresholds: Sequence[float] = tuple(np.round(np.arange(0.05, 0.96, 0.05),
                                                                  2)),
                     fixed_threshold: float = 0.15) -> Dict[str, object]:
    """CAM quality at a fixed background threshold and over a sweep."""
    all_thresholds = sorted(set(float(t) for t in thresholds) | {fixed_threshold})
    confs = {t: torch.zeros(NUM_CLASSES, NUM_CLASSES + 1, dtype=torch.int64)
             for t in all_thresholds}
    for img_id in ids:
        path = osp.join(cam_dir, img_id + '.npz')
        try:
            with np.load(path) as data:
                cams = torch.from_numpy(data['cams'].astype(np.float32))
                class_ids = torch.from_numpy(data['class_ids'].astype(np.int64))
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f'cannot read CAM file {path}: {err}') from err
        gt_path = osp.join(gt_dir, img_id + '.png')
        gt = check_label_values(read_label_png(gt_path), gt_path, NUM_CLASSES)
        check_same_size(cams, path, gt, gt_path)
        best, index = cams.max(0)
        best_id = class_ids[index]
        for t in all_thresholds:
            confs[t] += confusion_matrix(labels_at_threshold(best, best_id, t), gt, NUM_CLASSES)
    curve = {t: scores_from_confusion(c, VOC_SEG_CLASSES)['mIoU'] for t, c in confs.items()}
    best = max(curve, key=curve.get)
    return dict(fixed_threshold=fixed_threshold,
                fixed=scores_from_confusion(confs[fixed_threshold], VOC_SEG_CLASSES),
                best_threshold=best,
                best=scores_from_confusion(confs[best], VOC_SEG_CLASSES),
                curve={f'{t:.2f}': v for t, v in curve.items()})


def evaluate_saliency_dir(sal_dir: str, gt_dir: str, ids: Sequence[str],
                          beta2: float = 0.3) -> Dict[str, float]:
    """MAE and max F-measure of 8-bit saliency PNGs against the GT foreground (ids 1..20).

    Same definitions as :class:`~wsss_mm.evaluation.SaliencyMetric`: per-image MAE
    and F-measure curves over the 256 levels, averaged over images; max F is the
    maximum of the mean curve. GT pixels labelled 255 are ignored.
    """
    maes, curves = [], []
    for img_id in ids:
        sal_path = osp.join(sal_dir, img_id + '.png')
        gt_path = osp.join(gt_dir, img_id + '.png')
        sal = read_label_png(sal_path).double() / 255
        gt = check_label_values(read_label_png(gt_path), gt_path, NUM_CLASSES)
        check_same_size(sal, sal_path, gt, gt_path)
        valid = gt != 255
        fg = (gt > 0)[valid]
        maes.append(float((sal[valid] - fg.double()).abs().mean()))
        curves.append(f_measure_curve(sal[valid], fg, beta2))
    return dict(MAE=float(np.mean(maes)), maxF=float(torch.stack(curves).mean(0).max()))


def format_table(rows: List[List[str]], header: List[str]) -> str:
    """A GitHub markdown table."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)
