"""Confusion-matrix scores for label maps (pseudo labels, thresholded CAMs).

Same definitions as mmseg's ``IoUMetric``: per-class IoU = TP / (TP + FP + FN),
precision = TP / predicted, recall = TP / ground truth, NaN where undefined,
mIoU = NaN-mean over classes; pixels whose ground truth is ``ignore_index``
are excluded.
"""
from typing import Dict, Sequence

import torch


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor, num_classes: int,
                     ignore_index: int = 255) -> torch.Tensor:
    """[K, K + 1] int64 counts: rows = ground truth, columns = prediction, and a last
    column of pixels predicted as ``ignore_index``.

    Predicted ``ignore_index`` pixels (e.g. an ignore band in pseudo labels) count
    as misses of their ground-truth class, never as a class.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and ground truth '
                         f'{tuple(gt.shape)} differ in shape')
    valid = gt != ignore_index
    gt, pred = gt[valid].long(), pred[valid].long()
    hit = pred < num_classes
    counts = torch.bincount(gt[hit] * num_classes + pred[hit], minlength=num_classes**2)
    conf = counts.reshape(num_classes, num_classes)
    # ignored predictions: add to the ground-truth totals only (a false negative)
    missed = torch.bincount(gt[~hit], minlength=num_classes)
    return torch.cat([conf, missed[:, None]], dim=1)


def scores_from_confusion(conf: torch.Tensor,
                          class_names: Sequence[str]) -> Dict[str, object]:
    """mIoU, per-class IoU / precision / recall, and foreground (any class vs background 0)
    precision / recall (percent) from :func:`confusion_matrix`."""
    conf = conf.double()
    k = conf.shape[0]
    tp = conf[:, :k].diagonal()
    area_gt = conf.sum(1)
    area_pred = conf[:, :k].sum(0)
    union = area_gt + area_pred - tp
    nan = torch.tensor(float('nan'), dtype=torch.float64)
    iou = torch.where(union > 0, tp / union, nan) * 100
    precision = torch.where(area_pred > 0, tp / area_pred, nan) * 100
    recall = torch.where(area_gt > 0, tp / area_gt, nan) * 100
    # foreground = every label value but 0 (background), whatever its class
    fg_hit = conf[1:, 1:k].sum()
    fg_pred, fg_gt = conf[:, 1:k].sum(), conf[1:].sum()
    return dict(
        mIoU=float(iou.nanmean()),
        mPrecision=float(precision.nanmean()),
        mRecall=float(recall.nanmean()),
        aAcc=float(tp.sum() / area_gt.sum() * 100),
        fgPrecision=float(fg_hit / fg_pred * 100) if fg_pred > 0 else float('nan'),
        fgRecall=float(fg_hit / fg_gt * 100) if fg_gt > 0 else float('nan'),
        per_class={
            name: dict(IoU=float(iou[i]), precision=float(precision[i]),
                       recall=float(recall[i]))
            for i, name in enumerate(class_names)
        })


def cams_to_label(cams: torch.Tensor, class_ids: torch.Tensor,
                  bg_threshold: float) -> torch.Tensor:
    """Label map from CAMs: argmax over [background threshold, CAMs of the image's classes].

    Args:
        cams: [K, H, W] maps in [0, 1] of the image's K classes.
        class_ids: [K] label values of those classes (the dataset's, e.g. VOC 1..20).
        bg_threshold: Background score (IRN uses 0.15).
    """
    best, index = cams.max(0)
    return labels_at_threshold(best, class_ids[index], bg_threshold)


def labels_at_threshold(best: torch.Tensor, best_id: torch.Tensor,
                        bg_threshold: float) -> torch.Tensor:
    """:func:`cams_to_label` from the per-pixel max CAM and its class id, so a sweep
    over thresholds reduces the CAMs once. Ties go to the background, as the argmax
    over ``[threshold, CAMs]`` gives the first maximum."""
    return torch.where(best > bg_threshold, best_id, torch.zeros_like(best_id))
