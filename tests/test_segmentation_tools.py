"""Stage 4 through the tools: train MSCDeepLabV2 on pseudo labels, test with and without
CRF, export VOC test-server PNGs of a split without masks (the documented command as
written); the CRF metric against mmseg's IoUMetric + pydensecrf."""
import json
import os
import os.path as osp
import re
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO, run_tool
from references import reference_seg_scores

SEG_CFG = osp.join(REPO, 'configs', 'demo', 'deeplabv2_tiny-r18-aspp-msc_1000iter_demo.py')


@pytest.fixture(scope='module')
def pseudo_voc(tmp_path_factory):
    """A small VOC tree plus a pseudo-label folder (a corrupted copy of the GT)."""
    from wsss_mm.datasets.synthetic import make_synthetic_voc
    from wsss_mm.datasets.voc import VOC_PALETTE
    from wsss_mm.utils.io import save_png_atomic
    root = tmp_path_factory.mktemp('seg')
    voc = make_synthetic_voc(str(root), num_train=8, num_val=3, size=(64, 80), seed=5)
    pseudo_dir = root / 'pseudo'
    rng = np.random.default_rng(0)
    for name in os.listdir(osp.join(voc, 'SegmentationClassAug')):
        gt = np.asarray(Image.open(osp.join(voc, 'SegmentationClassAug', name))).copy()
        gt[rng.random(gt.shape) < 0.1] = 0
        save_png_atomic(str(pseudo_dir / name), gt, VOC_PALETTE)
    return voc, str(pseudo_dir)


@pytest.fixture(scope='module')
def maskless_root(tmp_path_factory):
    """``<root>/data/VOCdevkit/VOC2012`` with a test split of three images of different
    sizes, and no SegmentationClass folder at all (like the VOC 2012 test set)."""
    root = tmp_path_factory.mktemp('voc_test')
    voc = root / 'data' / 'VOCdevkit' / 'VOC2012'
    rng = np.random.default_rng(1)
    ids = ['2008_000001', '2008_000002', '2008_000003']
    for img_id, (width, height) in zip(ids, [(80, 64), (57, 43), (70, 90)]):
        (voc / 'JPEGImages').mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(
            voc / 'JPEGImages' / f'{img_id}.jpg')
    (voc / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (voc / 'ImageSets' / 'Segmentation' / 'test.txt').write_text('\n'.join(ids) + '\n')
    return root, ids


def _check_submission(out_dir, voc, ids):
    """PNGs named by id, palette mode, each of its image's size; the tar.gz holds them."""
    from wsss_mm.datasets.voc import VOC_PALETTE
    sub = 'results/VOC2012/Segmentation/comp6_test_cls'
    assert sorted(os.listdir(osp.join(out_dir, sub))) == [f'{i}.png' for i in ids]
    for img_id in ids:
        png = Image.open(osp.join(out_dir, sub, f'{img_id}.png'))
        assert png.mode == 'P'
        assert png.size == Image.open(osp.join(voc, 'JPEGImages', f'{img_id}.jpg')).size
        assert png.getpalette()[:63] == list(VOC_PALETTE)[:63]
        assert np.asarray(png).max() <= 20
    with tarfile.open(osp.join(out_dir, 'results.tar.gz'), 'r:gz') as tar:
        assert sorted(tar.getnames()) == [f'{sub}/{i}.png' for i in ids]
        for img_id in ids:
            with open(osp.join(out_dir, sub, f'{img_id}.png'), 'rb') as f:
                assert tar.extractfile(f'{sub}/{img_id}.png').read() == f.read()


def _data_options(voc, pseudo_dir):
    return [f'train_dataloader.dataset.data_root={voc}',
            f'train_dataloader.dataset.pseudo_label_dir={pseudo_dir}',
            f'val_dataloader.dataset.data_root={voc}', f'test_dataloader.dataset.data_root={voc}']


def test_pseudo_label_dataset_reads_pseudo_not_gt(pseudo_voc):
    from wsss_mm.datasets import PseudoLabelVOCDataset
    voc, pseudo_dir = pseudo_voc
    ds = PseudoLabelVOCDataset(data_root=voc, ann_file='ImageSets/Segmentation/train.txt',
                               pseudo_label_dir=pseudo_dir)
    assert len(ds) == 8
    assert all(info['seg_map_path'].startswith(pseudo_dir) for info in ds.load_data_list())


def test_train_then_test_with_and_without_crf(pseudo_voc, maskless_root, tmp_path):
    """The tools' mIoU / mIoU_crf equal an independent recomputation (20 iterations, so the
    predictions are no longer one constant class and the CRF has something to change)."""
    voc, pseudo_dir = pseudo_voc
    work = tmp_path / 'seg'
    run_tool(['tools/train.py', SEG_CFG, '--work-dir', str(work), '--cfg-options',
              'train_cfg.max_iters=20', 'train_cfg.val_interval=20',
              'default_hooks.checkpoint.interval=20', 'train_dataloader.batch_size=2',
              *_data_options(voc, pseudo_dir)])
    ckpt = work / 'iter_20.pth'
    assert ckpt.is_file()
    out = tmp_path / 'metrics.json'
    run_tool(['tools/test.py', SEG_CFG, str(ckpt), '--work-dir', str(tmp_path / 't'), '--out',
              str(out), '--crf', '--crf-nproc', '2', '--cfg-options',
              *_data_options(voc, pseudo_dir)])
    metrics = json.loads(out.read_text())
    reference = reference_seg_scores(SEG_CFG, str(ckpt), voc, [f'val_{i:05d}' for i in range(3)])
    assert metrics['mIoU'] == pytest.approx(reference['mIoU'])
    assert metrics['mIoU_crf'] == pytest.approx(reference['mIoU_crf'])
    # export without CRF on a split that has no masks
    root, ids = maskless_root
    maskless = str(root / 'data' / 'VOCdevkit' / 'VOC2012')
    export = tmp_path / 'export'
    run_tool(['tools/test.py', SEG_CFG, str(ckpt), '--work-dir', str(tmp_path / 'f'),
              '--format-only', '--out-dir', str(export), '--cfg-options',
              f'test_dataloader.dataset.data_root={maskless}',
              'test_dataloader.dataset.ann_file=ImageSets/Segmentation/test.txt'])
    _check_submission(str(export), maskless, ids)


def test_voc_test_server_command_runs_as_documented(maskless_root):
    """docs/reproduce.md's test-server command, verbatim, with the paper's full config
    (COCO + MSC + CRF, ResNet-101) on a generated split whose mask folder does not exist."""
    from mmengine.config import Config

    from wsss_mm.registry import MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    root, ids = maskless_root
    text = open(osp.join(REPO, 'docs', 'reproduce.md')).read()
    cfg_path = re.search(r'^CFG=(\S+)$', text, re.M).group(1)
    command = re.search(r'^# the test server.*\n(python tools/test\.py (?:.*\\\n)*.*)$', text,
                        re.M).group(1)
    assert '--format-only --crf' in command and '<ckpt>' in command
    for name in ('tools', 'configs'):
        if not (root / name).exists():
            (root / name).symlink_to(osp.join(REPO, name))
    # random weights of the configured model stand in for a trained checkpoint
    register_all_modules()
    model = MODELS.build(Config.fromfile(osp.join(REPO, cfg_path)).model)
    torch.save(dict(state_dict=model.state_dict()), root / 'ckpt.pth')
    del model
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               PATH=osp.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    proc = subprocess.run(['bash', '-c', f'set -e\nCFG={cfg_path}\n'
                           + command.replace('<ckpt>', 'ckpt.pth')],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert not (root / 'data' / 'VOCdevkit' / 'VOC2012' / 'SegmentationClass').exists()
    _check_submission(str(root / 'work_dirs' / 'voc_test'),
                      str(root / 'data' / 'VOCdevkit' / 'VOC2012'), ids)


def test_crf_metric_matches_iou_metric_and_pydensecrf(pseudo_voc):
    import pydensecrf.densecrf as dcrf
    from mmengine.structures import PixelData
    from mmseg.evaluation import IoUMetric
    from mmseg.structures import SegDataSample
    from pydensecrf.utils import unary_from_softmax

    from wsss_mm.datasets.voc import VOC_SEG_CLASSES
    from wsss_mm.registry import METRICS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    voc, _ = pseudo_voc
    metric = METRICS.build(dict(type='CRFIoUMetric', iou_metrics=['mIoU'], nproc=2,
                                crf=dict(type='DenseCRF')))
    plain, refined = IoUMetric(iou_metrics=['mIoU']), IoUMetric(iou_metrics=['mIoU'])
    for m in (metric, plain, refined):
        m.dataset_meta = dict(classes=VOC_SEG_CLASSES)
    torch.manual_seed(0)
    for index in range(3):
        img_path = osp.join(voc, 'JPEGImages', f'val_{index:05d}.jpg')
        gt = np.asarray(Image.open(osp.join(voc, 'SegmentationClass', f'val_{index:05d}.png')))
        logits = torch.randn(21, *gt.shape) + 4 * torch.nn.functional.one_hot(
            torch.from_numpy(gt.astype(np.int64)).clamp(max=20), 21).permute(2, 0, 1)
        sample = SegDataSample(metainfo=dict(img_path=img_path))
        sample.seg_logits = PixelData(data=logits)
        sample.pred_sem_seg = PixelData(data=logits.argmax(0, keepdim=True))
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(gt.astype(np.int64))[None])
        metric.process({}, [sample.to_dict()])
        plain.process({}, [sample.to_dict()])
        # the reference: pydensecrf called directly with DeepLab's defaults
        rgb = np.array(Image.open(img_path).convert('RGB'))
        crf = dcrf.DenseCRF2D(gt.shape[1], gt.shape[0], 21)
        crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(
            logits.softmax(0).numpy())))
        crf.addPairwiseGaussian(sxy=1, compat=3)
        crf.addPairwiseBilateral(sxy=67, srgb=3, rgbim=rgb, compat=4)
        crf_pred = np.asarray(crf.inference(10)).reshape(21, *gt.shape).argmax(0)
        ref_sample = SegDataSample()
        ref_sample.pred_sem_seg = PixelData(data=torch.from_numpy(crf_pred)[None])
        ref_sample.gt_sem_seg = sample.gt_sem_seg
        refined.process({}, [ref_sample.to_dict()])
    ours = metric.evaluate(3)
    assert ours['mIoU'] == pytest.approx(plain.evaluate(3)['mIoU'])
    assert ours['mIoU_crf'] == pytest.approx(refined.evaluate(3)['mIoU'])


def test_interop_mmseg_deeplabv3plus_one_iteration(pseudo_voc, tmp_path):
    """mmseg's DeepLabV3+ trains on the same pseudo-label dataset and is scored alike."""
    voc, pseudo_dir = pseudo_voc
    cfg = osp.join(REPO, 'configs', 'interop', 'deeplabv3plus_r50-d8_20k_voc12aug-pseudo.py')
    work = tmp_path / 'interop'
    out = tmp_path / 'interop.json'
    run_tool(['tools/train.py', cfg, '--work-dir', str(work), '--cfg-options',
              'model.pretrained=None', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1',
              'default_hooks.checkpoint.interval=1', 'train_dataloader.batch_size=2',
              'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
              'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
              *_data_options(voc, pseudo_dir)])
    run_tool(['tools/test.py', cfg, str(work / 'iter_1.pth'), '--work-dir', str(tmp_path / 't'),
              '--out', str(out), '--cfg-options', 'model.pretrained=None',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
              f'test_dataloader.dataset.data_root={voc}'])
    # the tool's score == mmseg's own inference API (init_model / inference_model on each val
    # image) scored by IoUMetric outside the Runner
    from mmengine.config import Config
    from mmseg.apis import inference_model, init_model

    from references import iou_metric_miou, read_label
    model_cfg = Config.fromfile(cfg)
    model_cfg.model.pretrained = None
    model = init_model(model_cfg, str(work / 'iter_1.pth'), device='cpu')
    from wsss_mm.datasets import read_split
    ids = read_split(osp.join(voc, 'ImageSets', 'Segmentation', 'val.txt'))
    pairs = [(inference_model(model, osp.join(voc, 'JPEGImages', f'{i}.jpg'))
              .pred_sem_seg.data[0].numpy(),
              read_label(osp.join(voc, 'SegmentationClass', f'{i}.png'))) for i in ids]
    assert json.loads(out.read_text())['mIoU'] == pytest.approx(iou_metric_miou(pairs), abs=1e-6)
