"""A reduced run of the demo (the README's main job): every stage, and every score it reports
recomputed independently from the files it wrote (mmseg's IoUMetric on label maps made here).

The reduced runs train for a handful of iterations, too few for the scores to clear a floor
(the fused labels do not yet beat CAM@0.15 and the segmentor not a constant background), so
instead each reported number must equal its independent recomputation; a broken stage or
scorer cannot.
"""
import json
import os.path as osp

import numpy as np
import pytest

from conftest import REPO, run_tool
from references import (algorithm1_labels, cam_labels, iou_metric_miou, read_label,
                        reference_seg_scores)


def _check(work, root, train_ids, val_ids):
    results = json.load(open(work / 'results.json'))
    assert set(results['timings_s']) >= {'classifier', 'pseudo', 'eval', 'segmentor', 'test'}
    report = (work / 'report.html').read_text()
    assert 'pseudo/vis/' in report and '<table>' in report

    def gt(img_id):
        return read_label(osp.join(root, 'SegmentationClass', f'{img_id}.png'))

    # both sides are mmseg-style percentages rounded to 2 decimals
    rounding = 0.01 + 1e-9
    fused = iou_metric_miou(
        (read_label(str(work / 'pseudo' / 'pseudo_labels' / f'{i}.png')), gt(i))
        for i in train_ids)
    assert results['pseudo_miou_fused'] == pytest.approx(fused, abs=rounding)
    cam = iou_metric_miou((cam_labels(str(work / 'pseudo' / 'cams' / f'{i}.npz'), 0.15), gt(i))
                          for i in train_ids)
    assert results['pseudo_miou_cam_t015'] == pytest.approx(cam, abs=rounding)
    checkpoint = open(work / 'segmentor' / 'last_checkpoint').read().strip()
    seg = reference_seg_scores(osp.join(REPO, results['seg_config']), checkpoint, root, val_ids)
    assert results['seg_miou'] == pytest.approx(seg['mIoU'], abs=rounding)
    assert results['seg_miou_crf'] == pytest.approx(seg['mIoU_crf'], abs=rounding)
    assert results['num_train'] == len(train_ids) and results['num_val'] == len(val_ids)
    return results


def _check_compare(results, work, root, train_ids):
    """The comparison rows: the thresholded seeds are CAM@0.15 recomputed from the demo's own
    CAMs; every method's mIoU is its label files scored by mmseg's IoUMetric."""
    rounding = 0.01 + 1e-9
    compared = {m['name']: m for m in results['compare']}
    assert list(compared) == ['cam', 'crf', 'xu2019', 'irn']
    assert [m['refiner'] for m in compared.values()] == [
        'ThresholdRefiner', 'CRFRefiner', 'SaliencyFusionRefiner', 'RandomWalkRefiner']
    gt = {i: read_label(osp.join(root, 'SegmentationClass', f'{i}.png')) for i in train_ids}
    cam = iou_metric_miou((cam_labels(str(work / 'pseudo' / 'cams' / f'{i}.npz'), 0.15), gt[i])
                          for i in train_ids)
    assert compared['cam']['mIoU'] == pytest.approx(cam, abs=rounding)
    dirs = dict(cam='compare/cam', crf='compare/crf', xu2019='pseudo', irn='compare/irn')
    for name, folder in dirs.items():
        miou = iou_metric_miou((read_label(str(work / folder / 'pseudo_labels' / f'{i}.png')),
                                gt[i]) for i in train_ids)
        assert compared[name]['mIoU'] == pytest.approx(miou, abs=rounding), name
    assert 'compare/compare_pseudo.png' in (work / 'report.html').read_text()


def test_demo_reduced_on_generated_data(tmp_path):
    work = tmp_path / 'demo'
    run_tool(['tools/demo.py', '--work-dir', str(work), '--num-train', '16', '--num-val', '6',
              '--cls-iters', '20', '--sod-iters', '10', '--seg-iters', '4', '--irnet-iters', '2',
              '--gt-segmentor'])
    root, train_ids = str(work / 'data' / 'VOCdevkit' / 'VOC2012'), [f'train_{i:05d}'
                                                                     for i in range(16)]
    results = _check(work, root, train_ids, [f'val_{i:05d}' for i in range(6)])
    _check_compare(results, work, root, train_ids)
    # the upper bound: the same segmentor trained on the GT masks, in results and the table
    checkpoint = open(work / 'segmentor_gt' / 'last_checkpoint').read().strip()
    seg = reference_seg_scores(osp.join(REPO, results['seg_config']), checkpoint, root,
                               [f'val_{i:05d}' for i in range(6)])
    assert results['seg_gt_miou'] == pytest.approx(seg['mIoU'], abs=0.01 + 1e-9)
    assert results['seg_gt_miou_crf'] == pytest.approx(seg['mIoU_crf'], abs=0.01 + 1e-9)
    assert f"| MSCDeepLabV2 on GT masks (upper bound), val | {results['seg_gt_miou']:.2f} |" in \
        (work / 'report.html').read_text()
    assert osp.isdir(work / 'data' / 'SOD' / 'DUTS-TR-Image')


def test_demo_reduced_on_real_photos(coco128_voc20, tmp_path):
    """The EfficientNet-Lite0 preset on 8 + 4 of the real COCO photos."""
    ids = open(osp.join(coco128_voc20, 'ImageSets/Segmentation/train.txt')).read().split()
    val = open(osp.join(coco128_voc20, 'ImageSets/Segmentation/val.txt')).read().split()
    (tmp_path / 'train.txt').write_text('\n'.join(ids[:8]) + '\n')
    (tmp_path / 'val.txt').write_text('\n'.join(val[:4]) + '\n')
    work = tmp_path / 'real'
    run_tool(['tools/demo.py', '--work-dir', str(work), '--preset', 'effnet', '--data-root',
              coco128_voc20, '--train-split', str(tmp_path / 'train.txt'), '--val-split',
              str(tmp_path / 'val.txt'), '--saliency', 'rbd', '--cls-epochs', '1',
              '--seg-iters', '2', '--no-gt-segmentor', '--no-compare'])
    results = _check(work, coco128_voc20, ids[:8], val[:4])
    # effnet chooses Algorithm 1's thresholds on val: the train labels use the chosen pair,
    # and the paper's pair and saliency alone are scored beside them (by hand here)
    fusion = json.load(open(work / 'fusion_val.json'))['fusion']
    best = fusion['algorithm1']['best']
    assert fusion['algorithm1']['grid'][0]['mIoU'] <= best['mIoU']
    assert (results['fusion_gamma1'], results['fusion_gamma2']) == (best['gamma1'],
                                                                    best['gamma2'])
    assert sorted(p.name for p in (work / 'fusion_val' / 'cams').glob('*.npz')) == sorted(
        f'{i}.npz' for i in val[:4])

    def fused(gamma1, gamma2, attention=True):
        pairs = []
        for img_id in ids[:8]:
            with np.load(work / 'pseudo' / 'cams' / f'{img_id}.npz') as data:
                cams, class_ids = data['cams'], data['class_ids']
            sal = read_label(str(work / 'pseudo' / 'saliency' / f'{img_id}.png'))
            pairs.append((algorithm1_labels(cams if attention else 0 * cams, class_ids, sal,
                                            gamma1, gamma2),
                          read_label(osp.join(coco128_voc20, 'SegmentationClass',
                                              f'{img_id}.png'))))
        return iou_metric_miou(pairs)

    rounding = 0.01 + 1e-9
    assert results['pseudo_miou_fused'] == pytest.approx(fused(best['gamma1'], best['gamma2']),
                                                         abs=rounding)
    assert results['pseudo_miou_fused_paper_gamma'] == pytest.approx(fused(0.2, 0.06),
                                                                     abs=rounding)
    assert results['pseudo_miou_saliency_only_val_gamma'] == pytest.approx(
        fused(results['saliency_only_gamma1'], 0.06, attention=False), abs=rounding)
