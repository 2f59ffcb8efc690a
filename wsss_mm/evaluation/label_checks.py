"""Checks of label maps read from files before they are scored.

A value that is neither a class nor the ignore index would otherwise fall out
of the confusion matrix like an ignored pixel (and can *raise* the mIoU), and a
shape mismatch would surface without the file at fault. Both raise
``ValueError`` naming the file.
"""
import torch


def check_label_values(label: torch.Tensor, path: str, num_classes: int,
                       ignore_index: int = 255) -> torch.Tensor:
    """Return ``label`` ([H, W] integers) if every value is in 0..num_classes-1 or ignore.

    Raises:
        ValueError: naming ``path``: a map that is not [H, W], or (up to 10 of) the
            offending values.
    """
    if label.ndim != 2:
        raise ValueError(f'label map {path} has shape {tuple(label.shape)}; expected one '
                         'channel of class indices [H, W] (a palette or grayscale PNG)')
    values = torch.unique(label)
    bad = values[((values < 0) | (values >= num_classes)) & (values != ignore_index)]
    if bad.numel():
        listed = ', '.join(str(int(v)) for v in bad[:10]) + (' ...' if bad.numel() > 10 else '')
        raise ValueError(f'label map {path} holds value(s) {listed} that are neither a class '
                         f'(0..{num_classes - 1}) nor the ignore index {ignore_index}')
    return label


def check_same_size(pred: torch.Tensor, pred_path: str, gt: torch.Tensor, gt_path: str) -> None:
    """Raise ``ValueError`` naming both files if a prediction's [H, W] differs from its GT's."""
    if tuple(pred.shape[-2:]) != tuple(gt.shape[-2:]):
        raise ValueError(f'{pred_path} is {tuple(pred.shape[-2:])} (H, W) but its ground truth '
                         f'{gt_path} is {tuple(gt.shape[-2:])}')
