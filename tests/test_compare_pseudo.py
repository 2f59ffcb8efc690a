"""tools/compare_pseudo.py on hand-made label maps: the table's numbers against values
counted by hand, the picture, the error for a method without labels, and work dirs whose
records do not match their config."""
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO

CFG = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_threshold_demo.py')
CRF_CFG = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_crf_demo.py')


def _record(work_dir, config, recorded_as):
    """The stage records gen_pseudo writes for ``config`` (seeds and labels)."""
    from mmengine.config import Config

    from wsss_mm.io import make_record, pseudo_stage_config, record_digest, write_record
    cfg = Config.fromfile(config)
    cams = make_record('cam', pseudo_stage_config(cfg, 'cam'), split_ids=['a'])
    labels = make_record('pseudo', pseudo_stage_config(cfg, 'pseudo'),
                         upstream=dict(cam=record_digest(cams)), split_ids=['a'],
                         info=dict(config=recorded_as))
    write_record(osp.join(work_dir, 'cams'), cams)
    write_record(osp.join(work_dir, 'pseudo_labels'), labels)


def _run(*argv):
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = ['compare_pseudo', *map(str, argv)]
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        runpy.run_path(osp.join(REPO, 'tools', 'compare_pseudo.py'), run_name='__main__')
    finally:
        sys.argv, sys.path[:] = old_argv, old_path


def test_table_and_picture_from_hand_made_labels(tmp_path):
    root = tmp_path / 'VOC2012'
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (root / sub).mkdir(parents=True)
    (root / 'ImageSets/Segmentation/train.txt').write_text('a\n')
    Image.fromarray(np.full((2, 4, 3), 200, np.uint8)).save(root / 'JPEGImages' / 'a.jpg')
    gt = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)  # 255: ignored
    Image.fromarray(gt).save(root / 'SegmentationClass' / 'a.png')
    # method x: one background pixel taken for class 1; method y: one class-1 pixel missed
    preds = dict(x=np.array([[0, 1, 1, 1], [0, 0, 1, 1]], np.uint8),
                 y=np.array([[0, 0, 1, 0], [0, 0, 1, 7]], np.uint8))
    for name, pred in preds.items():
        (tmp_path / name / 'pseudo_labels').mkdir(parents=True)
        Image.fromarray(pred).save(tmp_path / name / 'pseudo_labels' / 'a.png')
        _record(tmp_path / name, CFG, f'configs/{name}_method.py')
    (tmp_path / 'x' / 'gen_pseudo_report.json').write_text(
        json.dumps(dict(seconds_per_image=dict(cam=0.5, refine=0.25))))
    out = tmp_path / 'out'
    _run(CFG, CFG, '--names', 'x', 'y', '--pseudo-dirs', tmp_path / 'x', tmp_path / 'y',
         '--work-dir', out, '--split', 'train',
         '--cfg-options', f'pseudo_eval_dataset.data_root={root}',
         'pseudo_eval_dataset.label_source=mask')
    table = json.load(open(out / 'compare_pseudo.json'))
    x, y = table['methods']
    assert table['protocol']['num_images'] == 1
    # x: background TP 3, FN 1 -> IoU 3/4; class 1: TP 3, FP 1 -> 3/4
    assert x['per_class']['background']['IoU'] == pytest.approx(75.0)
    assert x['per_class']['aeroplane']['IoU'] == pytest.approx(75.0)
    # y: background TP 4, FP 1 -> 4/5; class 1: TP 2, FN 1 -> 2/3
    assert y['per_class']['background']['IoU'] == pytest.approx(80.0)
    assert y['mIoU'] == pytest.approx((80 + 200 / 3) / 2)
    assert (x['fgPrecision'], x['fgRecall']) == (pytest.approx(75.0), pytest.approx(100.0))
    # y: class 1 has 3 GT pixels, 2 found, none wrong; the value-7 pixel is GT-ignored
    assert (y['fgPrecision'], y['fgRecall']) == (pytest.approx(100.0), pytest.approx(200 / 3))
    assert x['seconds_per_image'] == dict(cam=0.5, refine=0.25) and y['seconds_per_image'] == {}
    text = open(out / 'compare_pseudo.md').read()
    assert '| x | ThresholdRefiner | 75.00 | 75.0 | 100.0 | 0.750 |' in text
    assert 'bicycle' not in text  # no GT or predicted pixels for any method
    picture = np.asarray(Image.open(out / 'compare_pseudo.png'))
    assert picture.shape[0] == 2 + 18 + 4 and picture.shape[1] == 4 * 4 + 3 * 4  # 4 tiles

    # without --names a method is named by the config its work dir recorded
    _run(CFG, '--pseudo-dirs', tmp_path / 'y', '--work-dir', tmp_path / 'out2', '--split',
         'train', '--cfg-options', f'pseudo_eval_dataset.data_root={root}',
         'pseudo_eval_dataset.label_source=mask')
    method = json.load(open(tmp_path / 'out2' / 'compare_pseudo.json'))['methods'][0]
    assert (method['name'], method['refiner']) == ('y_method', 'ThresholdRefiner')

    with pytest.raises(SystemExit, match='no pseudo labels in'):
        _run(CFG, '--pseudo-dirs', tmp_path / 'missing', '--work-dir', out)


def test_work_dir_recorded_with_another_config_refused(tmp_path):
    """A threshold run compared under the CRF config: refused, naming the refiner change
    (it was labelled CRFRefiner)."""
    labels = tmp_path / 'thr' / 'pseudo_labels'
    labels.mkdir(parents=True)
    Image.fromarray(np.zeros((2, 4), np.uint8)).save(labels / 'a.png')
    _record(tmp_path / 'thr', CFG, 'configs/recorded_threshold.py')
    with pytest.raises(SystemExit, match=r'thr/pseudo_labels was made with another config than '
                       r'.*crf_demo.py \(recorded: configs/recorded_threshold.py\)(.|\n)*'
                       r'refiner.type: "ThresholdRefiner" -> "CRFRefiner"'):
        _run(CRF_CFG, '--pseudo-dirs', tmp_path / 'thr', '--work-dir', tmp_path / 'out')
    assert not osp.exists(tmp_path / 'out')
