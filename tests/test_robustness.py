"""Hostile-but-fair input through the command-line tools (issue 13): corrupt and odd images,
broken annotations, odd split files, config typos, checkpoints that do not fit, pickled
payloads with weights_only turned off by the environment, odd prediction files, kills."""
import json
import os
import os.path as osp
import shutil
import signal
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO, run_tool
from test_gen_pseudo import (CFG, _args, _digest, classifier_ckpt, reference_run,  # noqa: F401
                             small_voc)

CLS_CFG = osp.join(REPO, 'configs', 'demo', 'cls_tiny-r18-gap_1000iter_demo.py')
SEG_CFG = osp.join(REPO, 'configs', 'demo', 'deeplabv2_tiny-r18-aspp-msc_1000iter_demo.py')
U2NET_CFG = osp.join(REPO, 'configs', 'demo', 'pseudo_tiny-r18-gradcam_u2netp-erasing_demo.py')


def run_failing(*commands, env=None, timeout=600):
    """Run tools that must all fail, side by side; return their combined outputs."""
    full_env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    full_env.update(env or {})
    procs = [subprocess.Popen([sys.executable, *args], cwd=REPO, env=full_env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for args in commands]
    outputs = []
    for args, proc in zip(commands, procs):
        out = proc.communicate(timeout=timeout)[0]
        assert proc.returncode != 0, f'{args} succeeded:\n{out[-4000:]}'
        outputs.append(out)
    return outputs[0] if len(outputs) == 1 else outputs


def png_with_header_size(width: int, height: int) -> bytes:
    """A valid 1×1 grayscale PNG whose IHDR claims ``width`` × ``height`` pixels."""
    buffer = __import__('io').BytesIO()
    Image.new('L', (1, 1)).save(buffer, format='PNG')
    data = bytearray(buffer.getvalue())
    # signature (8) | length (4) 'IHDR' (4) | width, height (2 × 4) ... | CRC over type + data
    data[16:24] = struct.pack('>II', width, height)
    data[29:33] = struct.pack('>I', zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# ---------------------------------------------------------------------------- images (4, 5)
def test_read_rgb_every_failure_is_an_input_error(tmp_path):
    from wsss_mm.io import InputError, read_rgb
    cases = {
        'empty.jpg': (b'', r'empty\.jpg is empty \(0 bytes\)'),
        'bomb.jpg': (png_with_header_size(30000, 30000), r'bomb\.jpg.*DecompressionBomb'),
        # over MAX_IMAGE_PIXELS but under PIL's error limit (2×): refused from the header
        'huge.jpg': (png_with_header_size(10000, 10000),
                     r'huge\.jpg: DecompressionBombWarning: Image size \(100000000 pixels\)'),
        'text.jpg': (b'not an image at all', r'text\.jpg: not an image format .*19 bytes'),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match=message) as info:
            read_rgb(str(tmp_path / name))
        assert 'BytesIO' not in str(info.value)
    with pytest.raises(InputError, match='missing.jpg'):
        read_rgb(str(tmp_path / 'missing.jpg'))


def test_read_rgb_odd_but_valid_images(tmp_path):
    from wsss_mm.io import read_rgb
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'png_as.jpg', format='PNG')  # lossless: exact
    np.testing.assert_array_equal(read_rgb(str(tmp_path / 'png_as.jpg')), rgb)
    Image.new('RGB', (1, 1), (10, 200, 30)).save(tmp_path / 'one.png')
    np.testing.assert_array_equal(read_rgb(str(tmp_path / 'one.png')), [[[10, 200, 30]]])
    gray = rng.integers(0, 256, (4, 6), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / 'gray.png')
    np.testing.assert_array_equal(read_rgb(str(tmp_path / 'gray.png')),
                                  np.repeat(gray[..., None], 3, axis=2))
    # CMYK (0, 0, 0, 0) is white, (0, 255, 255, 0) red: PIL's naive CMYK -> RGB
    cmyk = Image.new('CMYK', (3, 2), (0, 255, 255, 0))
    cmyk.save(tmp_path / 'cmyk.tif')
    np.testing.assert_array_equal(read_rgb(str(tmp_path / 'cmyk.tif')),
                                  np.broadcast_to([255, 0, 0], (2, 3, 3)))


# ------------------------------------------------------------------------ split files (9)
def test_read_split_normalises_lines_and_drops_duplicates_once(tmp_path):
    from wsss_mm.datasets.voc import read_split
    split = tmp_path / 'train.txt'
    split.write_bytes(b'a \r\n\r\nb\t\r\n  \na\nJPEGImages/c.jpg SegmentationClassAug/c.png\r\n'
                      b'b\n')
    with pytest.warns(UserWarning) as record:
        assert read_split(str(split)) == ['a', 'b', 'c']
    assert len(record) == 1
    assert 'train.txt lists 2 duplicate id(s) (a, b)' in str(record[0].message)


# ----------------------------------------------------------------- annotations (6)
def test_dataset_names_the_xml_without_objects(synthetic_voc, tmp_path):
    from wsss_mm.datasets import VOCImageLevelDataset
    voc = tmp_path / 'voc'
    shutil.copytree(synthetic_voc, voc)
    xml = voc / 'Annotations' / 'val_00001.xml'
    xml.write_text('<annotation><filename>val_00001.jpg</filename></annotation>')
    kwargs = dict(data_root=str(voc), ann_file='ImageSets/Segmentation/val.txt', lazy_init=False)
    with pytest.warns(UserWarning, match=r'val\.txt: 1 of 16 images have no image-level label '
                      r'and are left out \(val_00001\)'):
        dataset = VOCImageLevelDataset(**kwargs)
    assert len(dataset) == 15 and dataset.unlabeled_ids == ['val_00001']  # skipped by default
    with pytest.raises(ValueError, match=r'Annotations/val_00001\.xml has no object'):
        VOCImageLevelDataset(skip_unlabeled=False, **kwargs)


def test_empty_and_all_unlabelled_splits_name_the_split_file(synthetic_voc, tmp_path):
    from wsss_mm.datasets import VOCImageLevelDataset
    voc = tmp_path / 'voc'
    shutil.copytree(synthetic_voc, voc)
    split_dir = voc / 'ImageSets' / 'Segmentation'
    (split_dir / 'empty.txt').write_text('\n  \n')
    with pytest.raises(ValueError, match=r'split file .*empty\.txt lists no image id'):
        VOCImageLevelDataset(data_root=str(voc), ann_file='ImageSets/Segmentation/empty.txt')
    (split_dir / 'two.txt').write_text('val_00000\nval_00001\n')
    for img_id in ('val_00000', 'val_00001'):
        (voc / 'Annotations' / f'{img_id}.xml').write_text('<annotation></annotation>')
    with pytest.raises(ValueError, match=r'none of the 2 images of split file .*two\.txt has an '
                       r'image-level label \(val_00000, val_00001\)'):
        VOCImageLevelDataset(data_root=str(voc), ann_file='ImageSets/Segmentation/two.txt')


# -------------------------------------------- gen_pseudo on a hostile set (4, 5, 6, 9, 10)
@pytest.fixture(scope='module')
def hostile_voc(tmp_path_factory):
    """8 images: 4 odd but valid, 3 bad, 1 plain; a split with CRLF, blanks, spaces, a dup."""
    from wsss_mm.datasets.synthetic import make_synthetic_voc
    voc = make_synthetic_voc(str(tmp_path_factory.mktemp('hostile')), num_train=8, num_val=1,
                             size=(48, 64), seed=11)
    images = osp.join(voc, 'JPEGImages')

    def path(i):
        return osp.join(images, f'train_0000{i}.jpg')

    Image.open(path(0)).convert('RGB').resize((1, 1)).save(path(0), format='JPEG')
    Image.open(path(1)).convert('L').save(path(1), format='JPEG')
    Image.open(path(2)).convert('CMYK').save(path(2), format='JPEG')
    Image.open(path(3)).convert('RGB').save(path(3), format='PNG')  # PNG named .jpg
    with open(path(4), 'wb') as f:
        f.write(png_with_header_size(30000, 30000))
    open(path(5), 'wb').close()
    with open(osp.join(voc, 'Annotations', 'train_00006.xml'), 'w') as f:
        f.write('<annotation><filename>train_00006.jpg</filename></annotation>')
    with open(osp.join(voc, 'ImageSets', 'Segmentation', 'train.txt'), 'wb') as f:
        f.write(b''.join(f'train_0000{i} \r\n'.encode() + (b'\r\n' if i == 3 else b'')
                         for i in range(8)) + b'train_00007\n  \n')
    return voc


def test_gen_pseudo_skips_and_reports_every_bad_file(hostile_voc, classifier_ckpt, tmp_path):
    work = tmp_path / 'work'
    proc = run_tool(_args(hostile_voc, classifier_ckpt, work, '--on-error', 'skip'))
    assert '5 images done, 0 already done, 3 failed' in proc.stdout
    assert proc.stderr.count('duplicate id') == 1 and 'train_00007' in proc.stderr
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['status'] == 'finished' and report['images'] == 8
    errors = {f['img_id']: f['error'] for f in report['failures']}
    assert sorted(errors) == ['train_00004', 'train_00005', 'train_00006']
    assert 'train_00004.jpg' in errors['train_00004']
    assert 'DecompressionBomb' in errors['train_00004']
    assert errors['train_00005'].endswith('train_00005.jpg is empty (0 bytes)')
    assert 'Annotations/train_00006.xml has no object' in errors['train_00006']
    assert 'JPEGImages' not in errors['train_00006']
    for i, size in zip(range(4), [(1, 1), (64, 48), (64, 48), (64, 48)]):
        assert Image.open(work / 'pseudo_labels' / f'train_0000{i}.png').size == size

    # a rerun in the default raise mode stops at the first bad image: the report says so
    out = run_failing(_args(hostile_voc, classifier_ckpt, work))
    assert 'train_00004.jpg' in out and 'Traceback' not in out
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['status'] == 'stopped' and report['stopped_at'] == 'train_00004'
    assert 'train_00004.jpg' in report['error'] and report['processed_this_run'] == 0


def test_gen_pseudo_killed_mid_image_resumes_byte_identical(small_voc, classifier_ckpt,
                                                            reference_run, tmp_path):
    """SIGKILL of the serial loop after an image's CAM file is written and before its label:
    the rerun (the default pipeline) equals one run.

    The kill comes from the atomic writer's fault-injection hook right after the CAM file
    is renamed into place (deterministic; nothing polls the folder for it).
    """
    from wsss_mm.utils.io import KILL_AFTER_WRITE_ENV
    work = tmp_path / 'killed'
    mid_image = 'train_00002'
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               **{KILL_AFTER_WRITE_ENV: osp.join('cams', f'{mid_image}.npz')})
    proc = subprocess.run([sys.executable, *_args(small_voc, classifier_ckpt, work), '--serial'],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-4000:]
    assert osp.isfile(work / 'cams' / f'{mid_image}.npz')
    assert not osp.isfile(work / 'pseudo_labels' / f'{mid_image}.png')
    run_tool(_args(small_voc, classifier_ckpt, work))
    assert _digest(work) == _digest(reference_run)
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['status'] == 'finished' and report['failures'] == []


# ------------------------------------------------------------ config options (2, 7)
def test_cfg_option_checks_name_the_key_and_the_closest_known_key():
    from mmengine.config import Config

    from wsss_mm.utils.config_check import PSEUDO_KEYS, RUNNER_KEYS, check_cfg_options
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(CFG)
    bad = {
        'refinr.gamma1': (0.3, r"unknown key 'refinr\.gamma1'.*closest known key: 'refiner'"),
        'refiner.gamm1': (0.3, r"SaliencyFusionRefiner takes no argument 'gamm1' "
                          r"\(closest known key: 'gamma1'\)"),
        'pseudo_dataset.label_sorce': ('mask', r"takes no argument 'label_sorce'.*"
                                       r"closest known key: 'label_source'"),
        'saliency_generator.thresholds': (0.7, r'saliency_generator\.thresholds=0\.7: '
                                          r'expected list/tuple .*got float'),
        'refiner.gamma1': ('high', r"refiner\.gamma1='high': expected float"),
        'pseudo_dataset': ('x', r"pseudo_dataset='x': expected dict"),
    }
    for key, (value, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            check_cfg_options(cfg, {key: value}, PSEUDO_KEYS)
    good = {'refiner.gamma1': 1, 'refiner.gamma2': 0.1, 'pseudo_dataset.data_root': '/x',
            'saliency_generator.thresholds': [0.6, 0.7, 0.8], 'pseudo_on_error': 'skip',
            'model.backbone.init_cfg': None, 'saliency_generator.detector._delete_': True,
            'saliency_generator.detector.type': 'U2Net',
            'saliency_generator.detector.variant': 'u2netp'}
    assert check_cfg_options(cfg, good, PSEUDO_KEYS) == []
    # a config variable: in the file, but substituted when it is read
    notes = check_cfg_options(cfg, {'data_root': '/x', 'train_dataloader.batch_size': 2},
                              PSEUDO_KEYS)
    assert len(notes) == 2 and "'data_root' is not read" in notes[0]
    runner_cfg = Config.fromfile(CLS_CFG)
    with pytest.raises(ValueError, match=r"'trian_cfg\.max_iters'.*closest known key: "
                       r"'train_cfg'"):
        check_cfg_options(runner_cfg, {'trian_cfg.max_iters': 5}, RUNNER_KEYS)
    with pytest.raises(ValueError, match=r'train_cfg\.max_iters=1000\.0: expected int'):
        check_cfg_options(runner_cfg, {'train_cfg.max_iters': 1000.0}, RUNNER_KEYS)
    with pytest.raises(ValueError, match=r"IterBasedTrainLoop takes no argument 'max_iter'"):
        check_cfg_options(runner_cfg, {'train_cfg.max_iter': 5}, RUNNER_KEYS)
    assert check_cfg_options(runner_cfg, {'train_cfg.max_iters': 5,
                                          'train_dataloader.dataset.data_root': '/x',
                                          'optim_wrapper.optimizer.lr': 1}, RUNNER_KEYS) == []


@pytest.mark.parametrize('config, tool, options', [
    ('xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py', 'gen_pseudo',
     'refiner.gamma1=0.25 saliency_generator.thresholds=(0.6,0.8) '
     'cam_generator.type=GradCAMPlusPlusGenerator cam_generator.flip=True '
     'saliency_generator.detector._delete_=True saliency_generator.detector.type=U2Net '
     'saliency_generator.detector.variant=u2netp saliency_generator.detector.init_cfg.type='
     'Pretrained saliency_generator.detector.init_cfg.checkpoint=checkpoints/u2netp.pth'),
    ('xu2019/deeplabv2_r101-aspp-coco-msc_20k_voc12aug-pseudo_crf.py', 'runner',
     'model.scales=(1.0,0.75,0.5) train_dataloader.batch_size=5 model.data_preprocessor.mean='
     '[104.008,116.669,122.675] train_dataloader.dataset.pseudo_label_dir=/p '
     'test_dataloader.dataset.data_prefix.seg_map_path=JPEGImages model.pretrained=None '
     'default_hooks.visualization.draw=True'),
    ('demo/cls_tiny-r18-gap_1000iter_demo.py', 'runner',
     'train_dataloader.dataset.pipeline.1.crop_size=(64,64) train_cfg.max_iters=2 '
     'default_hooks.checkpoint.interval=2 val_dataloader.dataset.data_root=/v'),
])
def test_documented_cfg_options_pass_the_check(config, tool, options):
    """The examples of docs/configs.md, docs/reproduce.md and tools/demo.py stay valid."""
    import argparse

    from mmengine.config import Config, DictAction

    from wsss_mm.utils.config_check import PSEUDO_KEYS, RUNNER_KEYS, check_cfg_options
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parsed = parser.parse_args(['--cfg-options', *options.split()]).cfg_options
    reads = PSEUDO_KEYS if tool == 'gen_pseudo' else RUNNER_KEYS
    assert check_cfg_options(Config.fromfile(osp.join(REPO, 'configs', config)), parsed,
                             reads) == []


def test_tools_refuse_cfg_option_typos(small_voc, classifier_ckpt, tmp_path):
    typo, wrong_type, train = run_failing(
        _args(small_voc, classifier_ckpt, tmp_path / 'gp1', 'refinr.gamma1=0.3'),
        _args(small_voc, classifier_ckpt, tmp_path / 'gp2', 'saliency_generator.thresholds=0.7'),
        ['tools/train.py', CLS_CFG, '--work-dir', str(tmp_path / 'tr'), '--cfg-options',
         'trian_cfg.max_iters=2'])
    assert "gen_pseudo: --cfg-options: unknown key 'refinr.gamma1'" in typo
    assert "closest known key: 'refiner'" in typo and 'Traceback' not in typo
    assert 'saliency_generator.thresholds=0.7: expected list/tuple' in wrong_type
    assert not osp.exists(tmp_path / 'gp2' / 'pseudo_labels')
    assert "train.py: --cfg-options: unknown key 'trian_cfg.max_iters'" in train


# ---------------------------------------------------------------- checkpoints (1, 11)
def test_state_dict_mismatches_by_hand():
    from wsss_mm.utils.checkpoint_fit import state_dict_mismatches
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    state = dict(model.state_dict())
    assert state_dict_mismatches(model, state) == []
    del state['1.num_batches_tracked']  # allowed, as in mmengine
    assert state_dict_mismatches(model, state) == []
    state['0.weight'] = torch.zeros(2, 1, 5, 5)
    del state['1.bias']
    state['2.weight'] = torch.zeros(1)
    assert state_dict_mismatches(model, state) == [
        '0.weight: checkpoint (2, 1, 5, 5), model (2, 1, 3, 3)', 'missing 1.bias',
        'unexpected 2.weight']


def _save_model_checkpoint(cfg_path, path):
    from mmengine.config import Config

    from wsss_mm.registry import MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(cfg_path).model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)


def test_test_tool_refuses_a_checkpoint_of_another_model(tmp_path):
    seg_ckpt = str(tmp_path / 'segmentor.pth')
    _save_model_checkpoint(SEG_CFG, seg_ckpt)
    out = run_failing(['tools/test.py', CLS_CFG, seg_ckpt, '--work-dir', str(tmp_path / 't')])
    assert f'test.py: checkpoint {seg_ckpt} does not fit the model MultiLabelClassifier' in out
    assert 'mismatched keys, first: ' in out and 'Traceback' not in out


class _Payload:
    """Unpickling runs ``touch <marker>`` (what a booby-trapped checkpoint would do)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_weights_only_stays_on_when_the_environment_turns_it_off(tmp_path, monkeypatch):
    import wsss_mm  # noqa: F401  wraps torch.load
    marker = tmp_path / 'ran'
    path = tmp_path / 'payload.pth'
    torch.save(dict(state_dict={}, x=_Payload(marker)), path)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    for kwargs in ({}, dict(weights_only=False)):
        with pytest.raises(Exception, match='(?i)weights.only'):
            torch.load(path, **kwargs)
    assert not marker.exists()


def test_tools_refuse_pickled_payloads_on_any_torch(small_voc, classifier_ckpt, tmp_path):
    """With TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (torch < 2.6 behaviour) no tool runs a payload."""
    env = dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')
    data = [f'{split}_dataloader.dataset.data_root={small_voc}' for split in
            ('train', 'val', 'test')]
    train = ['tools/train.py', CLS_CFG, '--work-dir', str(tmp_path / 'tr'), '--cfg-options',
             'train_cfg.max_iters=1', *data]
    runs = {
        'test': lambda p: ['tools/test.py', CLS_CFG, p, '--work-dir', str(tmp_path / 't'),
                           '--cfg-options', *data],
        'resume': lambda p: train + ['--resume', p],
        'load_from': lambda p: train + [f'load_from={p}'],
        'classifier': lambda p: _args(small_voc, p, tmp_path / 'gp'),
        'saliency': lambda p: ['tools/gen_pseudo.py', U2NET_CFG, '--classifier-checkpoint',
                               classifier_ckpt, '--work-dir', str(tmp_path / 'gp2'),
                               '--cfg-options', f'pseudo_dataset.data_root={small_voc}',
                               f'saliency_generator.detector.init_cfg.checkpoint={p}'],
    }
    for name in runs:
        torch.save(dict(state_dict={}, meta={}, x=_Payload(tmp_path / f'ran_{name}')),
                   tmp_path / f'payload_{name}.pth')
    outputs = run_failing(*[make_args(str(tmp_path / f'payload_{name}.pth'))
                            for name, make_args in runs.items()], env=env)
    for name, out in zip(runs, outputs):
        assert not (tmp_path / f'ran_{name}').exists(), f'{name}: the payload ran'
        assert 'Weights only load failed' in out, f'{name}: {out[-2000:]}'


# ------------------------------------------------------------------ eval_pseudo (3, 8)
def test_label_checks_by_hand():
    from wsss_mm.evaluation.label_checks import check_label_values, check_same_size
    label = torch.tensor([[0, 20], [255, 3]])
    assert check_label_values(label, 'a.png', 21) is label
    with pytest.raises(ValueError, match=r'a\.png holds value\(s\) 21, 50 that are neither'):
        check_label_values(torch.tensor([[0, 50], [21, 255]]), 'a.png', 21)
    with pytest.raises(ValueError, match=r'a\.png has shape \(2, 2, 3\)'):
        check_label_values(torch.zeros(2, 2, 3, dtype=torch.long), 'a.png', 21)
    check_same_size(torch.zeros(4, 5), 'p.png', torch.zeros(4, 5), 'g.png')
    with pytest.raises(ValueError, match=r'p\.png is \(2, 5\) \(H, W\) but its ground truth '
                       r'g\.png is \(4, 5\)'):
        check_same_size(torch.zeros(2, 5), 'p.png', torch.zeros(4, 5), 'g.png')


def test_eval_pseudo_names_bad_prediction_files(small_voc, tmp_path):
    from wsss_mm.datasets.voc import VOC_PALETTE
    from wsss_mm.utils.io import save_png_atomic
    work = tmp_path / 'work'
    shutil.copytree(osp.join(small_voc, 'SegmentationClass'), work / 'pseudo_labels')
    args = ['tools/eval_pseudo.py', CFG, '--work-dir', str(work), '--cfg-options',
            f'pseudo_eval_dataset.data_root={small_voc}']
    run_tool(args)  # GT as prediction: fine
    assert json.load(open(work / 'eval_pseudo.json'))['pseudo_labels']['mIoU'] == 100.0
    bad = work / 'pseudo_labels' / 'train_00002.png'
    label = np.asarray(Image.open(bad)).copy()
    label[:4, :4] = 50
    save_png_atomic(str(bad), label, VOC_PALETTE)
    out = run_failing(args)
    assert f'label map {bad} holds value(s) 50 that are neither a class (0..20)' in out
    save_png_atomic(str(bad), label[::2, ::2].copy() * 0, VOC_PALETTE)
    out = run_failing(args)
    assert f'{bad} is (32, 40) (H, W) but its ground truth' in out


# ------------------------------------------------------------- GT masks of tools/test.py (C1)
def test_test_tool_refuses_gt_values_outside_the_classes(small_voc, tmp_path):
    """A GT value 50 would leave the confusion matrix like an ignored pixel (higher mIoU)."""
    voc = tmp_path / 'voc'
    shutil.copytree(small_voc, voc)
    val_ids = open(voc / 'ImageSets' / 'Segmentation' / 'val.txt').read().split()
    mask_path = voc / 'SegmentationClass' / f'{val_ids[1]}.png'
    mask = Image.open(mask_path)
    values = np.array(mask)
    values[0, :5] = 50
    bad = Image.fromarray(values, mode='P')
    bad.putpalette(mask.getpalette())
    bad.save(mask_path)
    seg_ckpt = str(tmp_path / 'segmentor.pth')
    _save_model_checkpoint(SEG_CFG, seg_ckpt)
    data = [f'{s}_dataloader.dataset.data_root={voc}' for s in ('train', 'val', 'test')]
    # the config's CRFIoUMetric and mmseg's IoUMetric (which test.py checks the same way)
    outputs = run_failing(*[['tools/test.py', SEG_CFG, seg_ckpt, '--work-dir',
                             str(tmp_path / f't{i}'), '--cfg-options', *data, *options]
                            for i, options in enumerate([['test_evaluator.crf=None'],
                                                         ['test_evaluator.type=IoUMetric']])])
    for out in outputs:
        assert f'label map {mask_path} holds value(s) 50 that are neither a class (0..20) ' \
               'nor the ignore index 255' in out, out[-3000:]


# ------------------------------------------------------------ training image loader (C2)
def test_training_loader_refuses_bombs_naming_the_file(small_voc, tmp_path):
    """The configs' LoadImageFromFile is mmcv's (same pixels) behind read_rgb's checks."""
    import mmcv
    from mmcv.transforms import LoadImageFromFile as MMCVLoad
    from mmengine.registry import init_default_scope

    from wsss_mm.io import InputError
    from wsss_mm.registry import TRANSFORMS
    init_default_scope('wsss_mm')
    loader = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    img_path = osp.join(small_voc, 'JPEGImages', 'train_00000.jpg')
    # same pixels as mmcv's loader (the reference) on a normal image
    np.testing.assert_array_equal(loader(dict(img_path=img_path))['img'],
                                  MMCVLoad()(dict(img_path=img_path))['img'])
    np.testing.assert_array_equal(loader(dict(img_path=img_path))['img'], mmcv.imread(img_path))
    cases = {
        'bomb.jpg': (png_with_header_size(60000, 60000), r'bomb\.jpg.*DecompressionBomb'),
        'huge.jpg': (png_with_header_size(10000, 10000), r'huge\.jpg: DecompressionBombWarning'),
        'empty.jpg': (b'', r'empty\.jpg is empty'),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match=message):
            loader(dict(img_path=str(tmp_path / name)))


# ------------------------------------------------ make_cls_labels and stage-4 data (C4)
def test_make_cls_labels_refuses_cfg_option_typos(small_voc, tmp_path):
    cfg = osp.join(REPO, 'configs', 'xu2019', 'cls_vgg16_15e_voc12aug.py')
    out = tmp_path / 'cls_labels.npy'
    typo, bad_section = run_failing(
        ['tools/make_cls_labels.py', cfg, str(out), '--cfg-options',
         f'val_dataloader.dataset.data_rot={small_voc}'],
        ['tools/make_cls_labels.py', cfg, str(out), '--cfg-options',
         f'val_dataloadr.dataset.data_root={small_voc}'])
    assert ("make_cls_labels: --cfg-options: val_dataloader.dataset.data_rot: "
            "VOCImageLevelDataset takes no argument 'data_rot' (closest known key: "
            "'data_root')") in typo
    assert "unknown key 'val_dataloadr.dataset.data_root'" in bad_section
    assert not out.exists()


def _pseudo_dataset(voc, label_dir):
    from mmengine.registry import init_default_scope

    from wsss_mm.datasets import PseudoLabelVOCDataset
    init_default_scope('wsss_mm')
    return PseudoLabelVOCDataset(
        pseudo_label_dir=str(label_dir), data_root=str(voc),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')])


def test_pseudo_label_dataset_checks_files_and_values(small_voc, reference_run, tmp_path):
    labels = tmp_path / 'pseudo_labels'
    shutil.copytree(reference_run / 'pseudo_labels', labels)
    ids = open(osp.join(small_voc, 'ImageSets', 'Segmentation', 'train.txt')).read().split()
    dataset = _pseudo_dataset(small_voc, labels)
    np.testing.assert_array_equal(dataset[0]['data_samples'].gt_sem_seg.data[0].numpy(),
                                  np.asarray(Image.open(labels / f'{ids[0]}.png')))
    # a label value 50: named when the label is loaded (not "Target 50 is out of bounds")
    values = np.array(Image.open(labels / f'{ids[2]}.png'))
    values[0, 0] = 50
    Image.fromarray(values).save(labels / f'{ids[2]}.png')
    with pytest.raises(ValueError, match=rf'label map .*{ids[2]}\.png holds value\(s\) 50'):
        dataset[2]
    # missing files: named when the dataset is built, before any is drawn
    os.remove(labels / f'{ids[1]}.png')
    os.remove(labels / f'{ids[4]}.png')
    with pytest.raises(FileNotFoundError, match=rf'2 of the 6 images of .*train\.txt have no '
                       rf'pseudo label in .*pseudo_labels \({ids[1]}\.png, {ids[4]}\.png\)'):
        _pseudo_dataset(small_voc, labels)


def test_wrong_cam_option_types_name_the_key(small_voc, classifier_ckpt, tmp_path):
    scales, size = run_failing(
        _args(small_voc, classifier_ckpt, tmp_path / 'a', 'cam_generator.scales=0.5'),
        _args(small_voc, classifier_ckpt, tmp_path / 'b', 'cam_input_size=abc'))
    assert "cam_generator.scales=0.5: expected list/tuple (the default is (1.0,))" in scales
    assert "cam_input_size must be a positive int (pixels) or None, got 'abc'" in size
    from wsss_mm.apis.pseudo_label_pipeline import PseudoLabelPipeline
    from wsss_mm.cam import GradCAMGenerator
    with pytest.raises(ValueError, match=r'scales must be a non-empty list of positive numbers, '
                       r'got 0\.5'):
        GradCAMGenerator(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1)), '0', scales=0.5)
    with pytest.raises(ValueError, match=r"cam_max_side must be a positive int .*got '9'"):
        PseudoLabelPipeline(torch.nn.Identity(), None, type('R', (), dict(cue=None))(), [1],
                            cam_max_side='9')


# --------------------------------------------------- data roots with spaces (C5)
def test_data_root_with_space_and_umlaut_end_to_end(small_voc, classifier_ckpt, reference_run,
                                                    tmp_path):
    """--cfg-options values keep their spaces (mmengine's DictAction drops them)."""
    voc = tmp_path / 'my vöc' / 'VOC2012'
    shutil.copytree(small_voc, voc)
    labels = tmp_path / 'out dir' / 'cls labels.npy'
    run_tool(['tools/make_cls_labels.py', CFG, str(labels), '--datasets', 'pseudo_dataset',
              '--cfg-options', f'pseudo_dataset.data_root={voc}'])
    from wsss_mm.datasets import read_cls_labels
    from wsss_mm.datasets.voc import labels_from_xml
    ids = open(voc / 'ImageSets' / 'Segmentation' / 'train.txt').read().split()
    table = read_cls_labels(str(labels))
    assert sorted(table) == sorted(ids)
    for img_id in ids:  # the XML of the copy under the spaced path
        np.testing.assert_array_equal(table[img_id], labels_from_xml(
            str(voc / 'Annotations' / f'{img_id}.xml')))
    work = tmp_path / 'work dir'
    run_tool(_args(str(voc), classifier_ckpt, work))
    from wsss_mm.io import RECORD_FILE, read_record

    def outputs(folder):  # the stage records name the data root: compared below
        return {k: v for k, v in _digest(folder).items() if not k.endswith(RECORD_FILE)}

    assert outputs(work) == outputs(reference_run)
    recorded = read_record(str(work / 'cams'))['depends']['config']['pseudo_dataset']
    assert recorded['data_root'] == str(voc)
    out = tmp_path / 'eval.json'
    run_tool(['tools/eval_pseudo.py', CFG, '--work-dir', str(work), '--out', str(out),
              '--cfg-options', f'pseudo_eval_dataset.data_root={voc}'])
    protocol = json.load(open(out))['protocol']
    assert protocol['num_images'] == len(ids) and 'my vöc' in json.dumps(
        protocol, ensure_ascii=False)


def test_cfg_options_action_keeps_single_values_and_parses_lists():
    import argparse

    from wsss_mm.utils.config_check import CfgOptionsAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    options = parser.parse_args(['--cfg-options', 'a=/d/my vöc', 'b=0.5', 'c=[1, 2]',
                                 'd=(0.5, 1.0)', 'e=None', 'f=True', "g='x y'"]).cfg_options
    assert options == {'a': '/d/my vöc', 'b': 0.5, 'c': [1, 2], 'd': (0.5, 1.0), 'e': None,
                       'f': True, 'g': 'x y'}


# --------------------------------------------------------- CAM resolution cap (C6)
def test_cam_resolution_cap_is_applied_and_reported(small_voc, classifier_ckpt, tmp_path):
    """Capped CAMs are computed at the cap and resized back: the same maps as
    ``cam_input_size`` = the cap (the documented meaning), on the original grid."""
    from mmengine.config import Config

    from wsss_mm.apis.pseudo_label_pipeline import PseudoLabelPipeline
    from wsss_mm.registry import DATASETS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(CFG)
    dataset = DATASETS.build(dict(cfg.pseudo_dataset, data_root=small_voc))
    data = dataset[0]
    img_id = data['data_samples'].img_id
    maps = {}
    for name, options in dict(capped=dict(cam_max_side=40),
                              resized=dict(cam_input_size=40, cam_max_side=None),
                              full=dict()).items():
        pipeline = PseudoLabelPipeline.from_config(Config(dict(cfg.to_dict(), **options)),
                                                   classifier_ckpt,
                                                   dataset.metainfo['label_ids'])
        maps[name] = pipeline.attention(data)[0]
        assert pipeline.capped == ([img_id] if name == 'capped' else [])
    assert maps['capped'].shape[1:] == (64, 80)
    torch.testing.assert_close(maps['capped'], maps['resized'], rtol=0, atol=0)
    assert not torch.equal(maps['capped'], maps['full'])
    work = tmp_path / 'capped'
    run_tool(_args(small_voc, classifier_ckpt, work, 'cam_max_side=40', '--stages', 'cam'))
    ids = open(osp.join(small_voc, 'ImageSets', 'Segmentation', 'train.txt')).read().split()
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['cam_capped'] == dict(max_side=40, images=sorted(ids))
