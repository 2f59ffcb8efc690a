"""A reduced run of the demo (the README's main job): every stage, every results key."""
import json
import os.path as osp

from conftest import run_tool

KEYS = ('pseudo_miou_cam', 'pseudo_miou_saliency_only', 'pseudo_miou_fused', 'seg_miou',
        'seg_miou_crf', 'timings_s')


def _check(work):
    results = json.load(open(work / 'results.json'))
    for key in KEYS:
        assert key in results, key
    for key in KEYS[:-1]:
        assert 0.0 <= results[key] <= 100.0
    assert set(results['timings_s']) >= {'classifier', 'pseudo', 'eval', 'segmentor', 'test'}
    report = (work / 'report.html').read_text()
    assert 'pseudo/vis/' in report and '<table>' in report
    return results


def test_demo_reduced_on_generated_data(tmp_path):
    work = tmp_path / 'demo'
    run_tool(['tools/demo.py', '--work-dir', str(work), '--num-train', '16', '--num-val', '6',
              '--cls-iters', '20', '--sod-iters', '10', '--seg-iters', '4'])
    results = _check(work)
    assert results['num_train'] == 16 and results['num_val'] == 6
    assert 0.0 <= results['sod_val_maxF'] <= 1.0
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
              str(tmp_path / 'val.txt'), '--saliency', 'rbd', '--cls-iters', '4',
              '--seg-iters', '2'])
    results = _check(work)
    assert results['num_train'] == 8 and results['preset'] == 'effnet'
    assert results['saliency_detector'] == 'rbd'
