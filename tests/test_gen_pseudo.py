"""tools/gen_pseudo.py and tools/eval_pseudo.py end to end on generated VOC data."""
import hashlib
import json
import os
import os.path as osp
import re
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


def _args(voc, ckpt, work, *extra, options=()):
    return ['tools/gen_pseudo.py', CFG, '--classifier-checkpoint', ckpt, '--work-dir',
            str(work), '--cfg-options', f'pseudo_dataset.data_root={voc}', *options, *extra]


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
    """SIGKILL of the serial loop right after the third label is written (the atomic
    writer's fault-injection hook: a deterministic point, no polling of the folder), plus
    the temp file of a writer killed mid-write: the rerun (the default pipeline) finishes
    the rest and equals one uninterrupted run. A killed pipeline worker:
    tests/test_gen_pseudo_pipeline.py."""
    from wsss_mm.utils.io import KILL_AFTER_WRITE_ENV, TEMP_PREFIX
    work = tmp_path / 'killed'
    ids = open(osp.join(small_voc, 'ImageSets/Segmentation/train.txt')).read().split()
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               **{KILL_AFTER_WRITE_ENV: osp.join('pseudo_labels', f'{ids[2]}.png')})
    proc = subprocess.run([sys.executable, *_args(small_voc, classifier_ckpt, work), '--serial'],
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
    assert result['method'] == dict(config=CFG, refiner=dict(
        type='SaliencyFusionRefiner', gamma1=0.2, gamma2=0.06, saliency_norm='none'))
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


# ------------------------------------------------ stage records: what made each folder's files
def _tree(work):
    """sha256 of every file under a work dir (records, report and vis included)."""
    out = {}
    for folder, _, names in os.walk(work):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, work)] = hashlib.sha256(f.read()).hexdigest()
    return out


def _folder(work, sub):
    return {n: open(osp.join(work, sub, n), 'rb').read() for n in os.listdir(osp.join(work, sub))
            if not n.startswith('.')}


def test_refine_sweep_relabels_every_image(small_voc, classifier_ckpt, reference_run, tmp_path):
    """The documented sweep (--stages refine with other thresholds) relabels all images and
    redraws their overlays: the files equal a fresh run's with those thresholds."""
    import shutil
    work = tmp_path / 'sweep'
    shutil.copytree(reference_run, work)
    sweep = ['refiner.gamma1=0.6', 'refiner.gamma2=0.5']
    proc = run_tool(_args(small_voc, classifier_ckpt, work, '--stages', 'refine', '--vis',
                          options=sweep))
    assert '6 images done, 0 already done' in proc.stdout
    assert 'refiner.gamma1: 0.2 -> 0.6' in proc.stdout
    fresh = tmp_path / 'fresh'
    run_tool(_args(small_voc, classifier_ckpt, fresh, '--vis', options=sweep))
    assert _folder(work, 'pseudo_labels') != _folder(reference_run, 'pseudo_labels')
    assert _digest(work) == _digest(fresh)
    assert _folder(work, 'vis') == _folder(fresh, 'vis')
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['records'] == json.load(open(fresh / 'gen_pseudo_report.json'))['records']


def test_changed_seeds_refused_until_overwrite(small_voc, classifier_ckpt, reference_run,
                                               tmp_path):
    """Another CAM config or classifier: stop before writing anything, naming the change;
    --overwrite recomputes (and the labels made from the seeds) as a fresh run would."""
    import shutil
    work = tmp_path / 'changed'
    shutil.copytree(reference_run, work)
    before = _tree(work)
    with pytest.raises(AssertionError, match=r'cam_input_size: \(absent\) -> 32|'
                       r'cam_input_size: null -> 32'):
        run_tool(_args(small_voc, classifier_ckpt, work, options=['cam_input_size=32']))
    other = tmp_path / 'other.pth'
    state = torch.load(classifier_ckpt, weights_only=True)
    state['state_dict'] = {k: v + 1 if v.is_floating_point() else v
                           for k, v in state['state_dict'].items()}
    torch.save(state, other)
    with pytest.raises(AssertionError, match=r'classifier checkpoint: sha256 [0-9a-f]{12}\.\. '
                       r'-> sha256 [0-9a-f]{12}\.\.(.|\n)*--overwrite'):
        run_tool(_args(small_voc, str(other), work, '--stages', 'cam'))
    assert _tree(work) == before, 'a refused run wrote or deleted files'
    proc = run_tool(_args(small_voc, classifier_ckpt, work, '--overwrite',
                          options=['cam_input_size=32']))
    assert '6 images done, 0 already done' in proc.stdout
    fresh = tmp_path / 'fresh'
    run_tool(_args(small_voc, classifier_ckpt, fresh, options=['cam_input_size=32']))
    assert _digest(work) == _digest(fresh)
    assert not osp.isdir(work / 'vis') or os.listdir(work / 'vis') == []  # overlays of old labels
    # --stages cam --overwrite alone: the labels made from the old seeds are deleted too
    run_tool(_args(small_voc, classifier_ckpt, work, '--stages', 'cam', '--overwrite'))
    assert [n for n in os.listdir(work / 'pseudo_labels')] == []
    assert _folder(work, 'cams') == _folder(reference_run, 'cams')


def test_outputs_without_record_refused(small_voc, classifier_ckpt, reference_run, tmp_path):
    import shutil
    work = tmp_path / 'old'
    shutil.copytree(reference_run, work)
    os.remove(work / 'cams' / '.stage_record.json')
    before = _tree(work)
    with pytest.raises(AssertionError, match=r'cams holds outputs without a record'):
        run_tool(_args(small_voc, classifier_ckpt, work))
    with pytest.raises(AssertionError, match=r'cams holds outputs without a record'):
        run_tool(_args(small_voc, classifier_ckpt, work, '--stages', 'refine'))
    assert _tree(work) == before


def test_missing_checkpoints_refused(small_voc, tmp_path):
    work = tmp_path / 'nockpt'
    args = ['tools/gen_pseudo.py', CFG, '--work-dir', str(work), '--cfg-options',
            f'pseudo_dataset.data_root={small_voc}']
    with pytest.raises(AssertionError, match='no --classifier-checkpoint'):
        run_tool(args)
    irn = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_irn_demo.py')
    with pytest.raises(AssertionError, match=r"no --cue-checkpoint: the boundary cue's network "
                       r'\(IRNet\)'):
        run_tool(['tools/gen_pseudo.py', irn] + args[2:] + ['--stages', 'cue'])
    assert not osp.exists(work)


def test_symlinked_stage_folder_refused(small_voc, classifier_ckpt, tmp_path):
    """A stage folder linked to the dataset's GT masks: refused, naming it; GT untouched."""
    import shutil
    voc = tmp_path / 'voc'
    shutil.copytree(small_voc, voc)
    gt = voc / 'SegmentationClass'
    before = _folder(voc, 'SegmentationClass')
    work = tmp_path / 'linked'
    work.mkdir()
    os.symlink(gt, work / 'pseudo_labels')
    with pytest.raises(AssertionError, match=r'linked/pseudo_labels is a symlink to .*'
                       r'SegmentationClass, outside the work dir'):
        run_tool(_args(str(voc), classifier_ckpt, work))
    assert _folder(voc, 'SegmentationClass') == before


def test_eval_pseudo_refuses_another_config(small_voc, reference_run):
    """eval_pseudo with the threshold config on Algorithm 1's work dir names the changes."""
    threshold = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_threshold_demo.py')
    with pytest.raises(AssertionError, match=r'pseudo_labels was made with another config '
                       r'(.|\n)*refiner.type: "SaliencyFusionRefiner" -> "ThresholdRefiner"'):
        run_tool(['tools/eval_pseudo.py', threshold, '--work-dir', str(reference_run), '--out',
                  osp.join(reference_run, 'x.json'), '--cfg-options',
                  f'pseudo_eval_dataset.data_root={small_voc}'])
    assert not osp.exists(osp.join(reference_run, 'x.json'))


def test_seeds_from_another_work_dir(small_voc, classifier_ckpt, reference_run, tmp_path):
    """--seeds-from takes the CAM files of a work dir whose seeds' record equals this run's
    (another refiner on the same seeds), and computes them where the record differs."""
    from references import cam_labels, read_label
    threshold = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_threshold_demo.py')
    work = tmp_path / 'taken'
    proc = run_tool(['tools/gen_pseudo.py', threshold, '--classifier-checkpoint', classifier_ckpt,
                     '--work-dir', str(work), '--seeds-from', str(reference_run), '--cfg-options',
                     f'pseudo_dataset.data_root={small_voc}'])
    assert f'seeds: 6 CAM files taken from {reference_run / "cams"}' in proc.stdout
    assert _folder(work, 'cams') == _folder(reference_run, 'cams')
    for name in _folder(work, 'cams'):  # the labels are made from the taken seeds
        img_id = name[:-len('.npz')]
        assert np.array_equal(read_label(str(work / 'pseudo_labels' / f'{img_id}.png')),
                              cam_labels(str(work / 'cams' / name), 0.15))
    other = tmp_path / 'other'
    proc = run_tool(['tools/gen_pseudo.py', threshold, '--classifier-checkpoint', classifier_ckpt,
                     '--work-dir', str(other), '--seeds-from', str(reference_run), '--stages',
                     'cam', '--cfg-options', f'pseudo_dataset.data_root={small_voc}',
                     'cam_input_size=32'])
    assert re.search(r'--seeds-from .* not used, its seeds were made from other inputs: '
                     r'.*cam_input_size', proc.stdout)
    assert _folder(other, 'cams') != _folder(reference_run, 'cams')
