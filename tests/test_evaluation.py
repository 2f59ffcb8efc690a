"""Label-map scores and the CAM threshold rule on hand-computed examples."""
import numpy as np
import pytest
import torch


def test_cams_to_label_hand_example():
    from wsss_mm.evaluation import cams_to_label
    cams = torch.tensor([[[0.1, 0.5, 0.3, 0.15]], [[0.05, 0.6, 0.2, 0.1]]])
    # pixel 4: the best CAM equals the threshold -> background (first argmax)
    assert cams_to_label(cams, torch.tensor([3, 15]), 0.15).tolist() == [[0, 15, 3, 0]]


def test_confusion_scores_hand_example():
    from wsss_mm.evaluation import confusion_matrix, scores_from_confusion
    gt = torch.tensor([0, 0, 1, 1, 1, 255])
    pred = torch.tensor([0, 1, 1, 1, 255, 1])  # a predicted 255 is a miss of class 1
    conf = confusion_matrix(pred, gt, num_classes=2)
    assert conf.tolist() == [[1, 1, 0], [0, 2, 1]]
    scores = scores_from_confusion(conf, ['bg', 'fg'])
    assert scores['per_class']['bg']['IoU'] == pytest.approx(100 / 2)   # 1 / (2 + 1 - 1)
    assert scores['per_class']['fg']['IoU'] == pytest.approx(200 / 4)   # 2 / (3 + 3 - 2)
    assert scores['per_class']['fg']['precision'] == pytest.approx(200 / 3)
    assert scores['mIoU'] == pytest.approx(50.0)


def test_cam_sweep_matches_per_threshold_labels(tmp_path):
    from wsss_mm.datasets.voc import VOC_PALETTE, VOC_SEG_CLASSES
    from wsss_mm.evaluation import (cams_to_label, confusion_matrix, evaluate_cams,
                                    scores_from_confusion)
    from wsss_mm.io import WorkDirLayout
    from wsss_mm.utils.io import save_npz_atomic, save_png_atomic
    rng = np.random.default_rng(0)
    cams = rng.random((2, 6, 7)).astype(np.float16)
    ids = np.array([4, 9], np.uint8)
    gt = rng.choice([0, 4, 9, 255], size=(6, 7)).astype(np.uint8)
    save_npz_atomic(str(tmp_path / 'cams' / 'a.npz'), cams=cams, class_ids=ids)
    save_png_atomic(str(tmp_path / 'gt' / 'a.png'), gt, VOC_PALETTE)
    result = evaluate_cams(WorkDirLayout(str(tmp_path)), [('a', str(tmp_path / 'gt' / 'a.png'))],
                           VOC_SEG_CLASSES, thresholds=(0.2, 0.5, 0.8))
    for t in (0.2, 0.5, 0.8):
        label = cams_to_label(torch.from_numpy(cams.astype(np.float32)),
                              torch.from_numpy(ids.astype(np.int64)), t)
        conf = confusion_matrix(label, torch.from_numpy(gt.astype(np.int64)), 21)
        expected = scores_from_confusion(conf, VOC_SEG_CLASSES)['mIoU']
        assert result['curve'][f'{t:.2f}'] == pytest.approx(expected)
    assert result['best']['mIoU'] == pytest.approx(max(result['curve'].values()))
