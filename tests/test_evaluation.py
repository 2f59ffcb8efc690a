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


def test_cam_sweep_matches_mmseg_iou_metric(tmp_path):
    """Every threshold of the one-pass sweep == mmseg's IoUMetric on labels made by hand
    (pixel -> class of the largest CAM if it exceeds the threshold, else background)."""
    from mmengine.structures import PixelData
    from mmseg.evaluation import IoUMetric
    from mmseg.structures import SegDataSample

    from wsss_mm.datasets.voc import VOC_PALETTE, VOC_SEG_CLASSES
    from wsss_mm.evaluation import evaluate_cams
    from wsss_mm.io import WorkDirLayout
    from wsss_mm.utils.io import save_npz_atomic, save_png_atomic
    rng = np.random.default_rng(0)
    images = {}
    for name, ids in (('a', [4, 9]), ('b', [9]), ('c', [1, 4, 15])):
        cams = rng.random((len(ids), 6, 7)).astype(np.float16)
        gt = rng.choice([0, *ids, 255], size=(6, 7)).astype(np.uint8)
        save_npz_atomic(str(tmp_path / 'cams' / f'{name}.npz'), cams=cams,
                        class_ids=np.array(ids, np.uint8))
        save_png_atomic(str(tmp_path / 'gt' / f'{name}.png'), gt, VOC_PALETTE)
        images[name] = (cams.astype(np.float32), np.array(ids), gt)
    thresholds = (0.2, 0.5, 0.8)
    items = [(name, str(tmp_path / 'gt' / f'{name}.png')) for name in sorted(images)]
    result = evaluate_cams(WorkDirLayout(str(tmp_path)), items, VOC_SEG_CLASSES,
                           thresholds=thresholds)
    for t in thresholds:
        metric = IoUMetric(iou_metrics=['mIoU'])
        metric.dataset_meta = dict(classes=VOC_SEG_CLASSES)
        for cams, ids, gt in images.values():
            label = np.where(cams.max(0) > t, ids[cams.argmax(0)], 0)
            sample = SegDataSample()
            sample.pred_sem_seg = PixelData(data=torch.from_numpy(label.astype(np.int64))[None])
            sample.gt_sem_seg = PixelData(data=torch.from_numpy(gt.astype(np.int64))[None])
            metric.process({}, [sample.to_dict()])
        reference = metric.compute_metrics(metric.results)['mIoU']
        # mmseg rounds its percentages to 2 decimals
        assert result['curve'][f'{t:.2f}'] == pytest.approx(reference, abs=0.005 + 1e-9)
    assert result['best']['mIoU'] == pytest.approx(max(result['curve'].values()))
