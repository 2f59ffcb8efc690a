"""tools/gen_pseudo.py and tools/eval_pseudo.py end to end on generated VOC data."""
import hashlib
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO, free_port, run_tool

CFG = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_rbd-erasing_demo.py')


@pytest.fixture(scope='module')
def small_voc(tmp_path_factory):
    from wsss_mm.datasets.synthetic import make_synthetic_voc
    return make_synthetic_voc(str(tmp_path_factory.mktemp('voc_gp')), num_train=6, num_val=2,
                              size=(64, 80), seed=3)


@pytest.fixture(scope='module')
def classifier_ckpt(tmp_path_factory):
    """A randomly initialised tiny classifier saved as an mmengine checkpoint."""
    from mmengine.config import Config

    from wsss_mm.registry import MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CFG).model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'cls.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


def _args(voc, ckpt, work, *extra):
    return ['tools/gen_pseudo.py', CFG, '--classifier-checkpoint', ckpt, '--work-dir',
            str(work), '--cfg-options', f'pseudo_dataset.data_root={voc}', *extra]


def _digest(work):
    out = {}
    for sub in ('cams', 'saliency', 'pseudo_labels'):
        for name in sorted(os.listdir(osp.join(work, sub))):
            with open(osp.join(work, sub, name), 'rb') as f:
                out[f'{sub}/{name}'] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(scope='module')
def reference_run(small_voc, classifier_ckpt, tmp_path_factory):
    work = tmp_path_factory.mktemp('gp_ref')
    run_tool(_args(small_voc, classifier_ckpt, work, '--vis'))
    return work


def test_outputs_follow_labels(small_voc, reference_run):
    from wsss_mm.datasets.voc import labels_from_xml
    ids = open(osp.join(small_voc, 'ImageSets/Segmentation/train.txt')).read().split()
    for img_id in ids:
        classes = set(np.flatnonzero(labels_from_xml(
            osp.join(small_voc, 'Annotations', img_id + '.xml'))) + 1)
        pseudo = Image.open(osp.join(reference_run, 'pseudo_labels', img_id + '.png'))
        assert pseudo.mode == 'P' and pseudo.size == (80, 64)
        assert set(np.unique(np.asarray(pseudo))) <= classes | {0}
        with np.load(osp.join(reference_run, 'cams', img_id + '.npz')) as data:
            assert data['cams'].dtype == np.float16
            assert set(data['class_ids'].tolist()) == classes
            assert data['cams'].max() <= 1.0 and data['cams'].min() >= 0.0
        assert osp.isfile(osp.join(reference_run, 'vis', img_id + '.png'))
    report = json.load(open(osp.join(reference_run, 'gen_pseudo_report.json')))
    assert report['failures'] == [] and report['processed_this_run'] == len(ids)


def test_killed_run_resumes_byte_identical(small_voc, classifier_ckpt, reference_run, tmp_path):
    """SIGKILL right after the third label is written (the atomic writer's fault-injection
    hook: a deterministic point, no polling of the folder), plus the temp file of a writer
    killed mid-write: the rerun finishes the rest and equals one uninterrupted run."""
    from wsss_mm.utils.io import KILL_AFTER_WRITE_ENV, TEMP_PREFIX
    work = tmp_path / 'killed'
    ids = open(osp.join(small_voc, 'ImageSets/Segmentation/train.txt')).read().split()
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               **{KILL_AFTER_WRITE_ENV: osp.join('pseudo_labels', f'{ids[2]}.png')})
    proc = subprocess.run([sys.executable, *_args(small_voc, classifier_ckpt, work)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-4000:]
    labels = sorted(n for n in os.listdir(work / 'pseudo_labels') if n.endswith('.png'))
    assert labels == sorted(f'{i}.png' for i in ids[:3])
    done_before = 3  # images are processed in split order
    open(work / 'pseudo_labels' / f'{TEMP_PREFIX}killed-{ids[3]}.png', 'wb').close()
    proc = run_tool(_args(small_voc, classifier_ckpt, work))
    assert f'{len(ids) - done_before} images done, {done_before} already done' in proc.stdout
    assert _digest(work) == _digest(reference_run)
    leftovers = [n for sub in ('cams', 'saliency', 'pseudo_labels')
                 for n in os.listdir(work / sub) if n.startswith(TEMP_PREFIX)]
    assert leftovers == [], 'temp files of the killed run were left behind'


def test_stages_one_at_a_time_match_one_run(small_voc, classifier_ckpt, reference_run,
                                            tmp_path):
    work = tmp_path / 'staged'
    run_tool(_args(small_voc, classifier_ckpt, work, '--stages', 'cam'))
    assert sorted(os.listdir(work / 'cams')) and not osp.isdir(work / 'pseudo_labels')
    run_tool(_args(small_voc, classifier_ckpt, work, '--stages', 'cue'))
    proc = run_tool(_args(small_voc, classifier_ckpt, work, '--stages', 'refine'))
    assert '6 images done' in proc.stdout
    assert _digest(work) == _digest(reference_run)
    proc = run_tool(_args(small_voc, classifier_ckpt, work))
    assert '0 images done, 6 already done' in proc.stdout


def test_two_process_run_matches_one_process(small_voc, classifier_ckpt, reference_run,
                                              tmp_path):
    work = tmp_path / 'dist'
    run_tool(['-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}'] +
             _args(small_voc, classifier_ckpt, work) + ['--launcher', 'pytorch'])
    assert _digest(work) == _digest(reference_run)


def test_bad_inputs_name_the_file(small_voc, classifier_ckpt, tmp_path):
    import shutil
    voc = tmp_path / 'voc'
    shutil.copytree(small_voc, voc)
    bad = voc / 'JPEGImages' / 'train_00002.jpg'
    bad.write_bytes(bad.read_bytes()[:200])  # truncated JPEG
    with pytest.raises(AssertionError, match='train_00002.jpg'):
        run_tool(_args(str(voc), classifier_ckpt, tmp_path / 'fail'))
    assert not osp.exists(tmp_path / 'fail' / 'pseudo_labels' / 'train_00002.png')
    work = tmp_path / 'skip'
    proc = run_tool(_args(str(voc), classifier_ckpt, work, '--on-error', 'skip'))
    assert '5 images done' in proc.stdout and '1 failed' in proc.stdout
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert [f['img_id'] for f in report['failures']] == ['train_00002']
    assert 'train_00002.jpg' in report['failures'][0]['error']
    # fusing only, without the stored CAMs, names the missing CAM file
    os.remove(work / 'cams' / 'train_00001.npz')
    os.remove(work / 'pseudo_labels' / 'train_00001.png')
    with pytest.raises(AssertionError, match=r'missing CAM file .*train_00001\.npz'):
        run_tool(_args(str(voc), classifier_ckpt, work, '--stages', 'refine'))
    # an unknown class name in an XML names the XML
    xml = voc / 'Annotations' / 'train_00001.xml'
    xml.write_text(xml.read_text().replace('<name>', '<name>unicorn', 1))
    with pytest.raises(AssertionError, match=r'unicorn.*train_00001\.xml'):
        run_tool(_args(str(voc), classifier_ckpt, work))


def test_eval_pseudo_agrees_with_mmseg_iou_metric(small_voc, reference_run):
    from mmengine.structures import PixelData
    from mmseg.evaluation import IoUMetric
    from mmseg.structures import SegDataSample

    from wsss_mm.datasets.voc import VOC_SEG_CLASSES
    out = osp.join(reference_run, 'eval.json')
    proc = run_tool(['tools/eval_pseudo.py', CFG, '--work-dir', str(reference_run), '--out',
                     out, '--cfg-options', f'pseudo_eval_dataset.data_root={small_voc}'])
    result = json.load(open(out))
    ours = result['pseudo_labels']
    # the default protocol: VOC12 train against SegmentationClass, named in the output
    split = osp.join(small_voc, 'ImageSets/Segmentation/train.txt')
    assert result['protocol'] == dict(split=split, num_images=6,
                                      gt_dir=osp.join(small_voc, 'SegmentationClass'))
    assert proc.stdout.count(f'split {split} (6 images), GT ') == 2
    # train_aug is the option, against SegmentationClassAug
    out_aug = osp.join(reference_run, 'eval_aug.json')
    run_tool(['tools/eval_pseudo.py', CFG, '--work-dir', str(reference_run), '--out', out_aug,
              '--split', 'train_aug', '--cfg-options',
              f'pseudo_eval_dataset.data_root={small_voc}'])
    assert json.load(open(out_aug))['protocol'] == dict(
        split=osp.join(small_voc, 'ImageSets/SegmentationAug/train_aug.txt'), num_images=6,
        gt_dir=osp.join(small_voc, 'SegmentationClassAug'))
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=VOC_SEG_CLASSES)
    ids = open(osp.join(small_voc, 'ImageSets/Segmentation/train.txt')).read().split()
    for img_id in ids:
        pred = np.asarray(Image.open(osp.join(reference_run, 'pseudo_labels', img_id + '.png')))
        gt = np.asarray(Image.open(osp.join(small_voc, 'SegmentationClass', img_id + '.png')))
        sample = SegDataSample()
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(pred.astype(np.int64))[None])
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(gt.astype(np.int64))[None])
        metric.process({}, [sample.to_dict()])
    reference = metric.compute_metrics(metric.results)
    assert ours['mIoU'] == pytest.approx(reference['mIoU'], abs=0.01)
    assert ours['aAcc'] == pytest.approx(reference['aAcc'], abs=0.01)
