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


def _miou_by_hand(preds, gts, k):
    """mIoU (%) over the classes with a non-empty union; GT 255 ignored."""
    pred, gt = np.concatenate([p.ravel() for p in preds]), np.concatenate([g.ravel() for g in gts])
    keep = gt != 255
    pred, gt = pred[keep], gt[keep]
    ious = [((pred == c) & (gt == c)).sum() / ((pred == c) | (gt == c)).sum()
            for c in range(k) if ((pred == c) | (gt == c)).any()]
    return 100 * float(np.mean(ious))


def test_fusion_sweep_matches_algorithm1_by_hand(tmp_path):
    """evaluate_fusion over a (gamma1, gamma2) grid (and saliency alone: CAMs set to zero,
    every salient pixel to the first class) == Algorithm 1 and mIoU computed by hand."""
    from references import algorithm1_labels

    from wsss_mm.evaluation import evaluate_fusion
    from wsss_mm.io import WorkDirLayout, write_cams, write_saliency
    from wsss_mm.utils.io import save_png_atomic
    rng = np.random.default_rng(0)
    layout = WorkDirLayout(str(tmp_path))
    names = [f'c{i}' for i in range(21)]
    images = [('a', [3, 7]), ('b', [12])]
    data, items = {}, []
    for img_id, class_ids in images:
        cams = (rng.integers(0, 65, (len(class_ids), 6, 7)) / 64).astype(np.float16)
        sal = rng.integers(0, 256, (6, 7)).astype(np.uint8)
        gt = rng.choice([0, *class_ids, 255], (6, 7)).astype(np.uint8)
        write_cams(layout.path('cam', img_id), torch.from_numpy(cams), np.array(class_ids))
        write_saliency(layout.path('saliency', img_id), sal)
        save_png_atomic(str(tmp_path / f'{img_id}_gt.png'), gt)
        items.append((img_id, str(tmp_path / f'{img_id}_gt.png')))
        data[img_id] = (cams, class_ids, sal, gt)
    gamma1s, gamma2s = (0.1, 0.3, 0.45), (0.06, 0.5)
    for attention in (True, False):
        out = evaluate_fusion(layout, items, names, gamma1s, gamma2s, attention=attention)
        expected = []
        for g1 in gamma1s:
            for g2 in gamma2s:
                preds = [algorithm1_labels(c if attention else np.zeros_like(c), ids, s, g1, g2)
                         for c, ids, s, _ in data.values()]
                expected.append(_miou_by_hand(preds, [d[3] for d in data.values()], 21))
        assert [(p['gamma1'], p['gamma2']) for p in out['grid']] == [
            (g1, g2) for g1 in gamma1s for g2 in gamma2s]
        assert [p['mIoU'] for p in out['grid']] == pytest.approx(expected, abs=1e-9)
        best = int(np.argmax(expected))  # the first of the highest
        assert (out['best']['gamma1'], out['best']['gamma2']) == (
            gamma1s[best // 2], gamma2s[best % 2])
        assert out['best']['mIoU'] == pytest.approx(expected[best], abs=1e-9)
