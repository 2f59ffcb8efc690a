"""The stack, the registries, safe checkpoints, and the train/resume/test/distributed tools."""
import glob
import io
import json
import os.path as osp

import numpy as np
import pytest
import torch

from conftest import REPO, free_port, run_tool

TINY_CFG = osp.join(REPO, 'configs', 'demo', 'cls_tiny-r18-gap_1000iter_demo.py')


def test_stack_imports():
    """The compiled parts import (mmcv.ops is required by mmseg.utils; pydensecrf by the CRF)."""
    import mmcv.ops  # noqa: F401
    import mmseg.models  # noqa: F401
    import pydensecrf.densecrf  # noqa: F401

    import wsss_mm  # noqa: F401


def test_registries_are_children_of_mmseg():
    from mmseg.registry import MODELS as MMSEG_MODELS

    from wsss_mm import registry
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    assert registry.MODELS.parent is MMSEG_MODELS
    assert registry.MODELS.scope == 'wsss_mm'
    for name in ('DATASETS', 'TRANSFORMS', 'METRICS', 'EVALUATOR', 'HOOKS', 'VISUALIZERS',
                 'OPTIM_WRAPPERS', 'PARAM_SCHEDULERS', 'LOOPS', 'CAM_GENERATORS',
                 'SALIENCY_GENERATORS', 'PSEUDO_LABEL_FUSERS', 'REFINERS', 'POSTPROCESSORS'):
        assert getattr(registry, name).scope == 'wsss_mm'
    # mmseg and mmengine components resolve by plain name from the wsss_mm scope
    metric = registry.METRICS.build(dict(type='IoUMetric', iou_metrics=['mIoU']))
    assert type(metric).__module__.startswith('mmseg')
    preproc = registry.MODELS.build(dict(type='SegDataPreProcessor', mean=[0, 0, 0],
                                         std=[1, 1, 1]))
    assert type(preproc).__name__ == 'SegDataPreProcessor'
    assert registry.MODELS.get('MultiLabelClassifier').__module__.startswith('wsss_mm')


def test_weights_only_allowlist_is_narrow():
    from mmengine.logging import HistoryBuffer, MessageHub

    import wsss_mm  # noqa: F401  registers the allow-list
    hub = MessageHub.get_instance('test_weights_only')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(1.5))
    hub.update_info('iter', 7)
    buffer = io.BytesIO()
    torch.save(dict(message_hub=hub.state_dict(), state_dict={'w': torch.ones(2)}), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.mean() == pytest.approx(1.0) and restored.current() == 1.5
    # weights_only keeps refusing arbitrary callables such as builtins.getattr
    evil = io.BytesIO()
    torch.save({'f': getattr}, evil)
    evil.seek(0)
    with pytest.raises(Exception, match='getattr'):
        torch.load(evil, weights_only=True)


def test_atomic_png_roundtrip(tmp_path):
    from PIL import Image

    from wsss_mm.datasets.voc import VOC_PALETTE
    from wsss_mm.utils.io import save_png_atomic
    labels = np.array([[0, 1, 2], [20, 255, 7]], dtype=np.uint8)
    path = str(tmp_path / 'a' / 'label.png')
    save_png_atomic(path, labels, VOC_PALETTE)
    image = Image.open(path)
    assert image.mode == 'P'
    np.testing.assert_array_equal(np.asarray(image), labels)
    assert image.getpalette()[3:6] == [128, 0, 0]  # VOC colour of class 1
    assert glob.glob(str(tmp_path / 'a' / '.tmp-*')) == []


def test_voc_image_level_labels(synthetic_voc, tmp_path):
    from wsss_mm.datasets import VOCImageLevelDataset, labels_from_mask, labels_from_xml
    ds = VOCImageLevelDataset(data_root=synthetic_voc,
                              ann_file='ImageSets/SegmentationAug/train_aug.txt',
                              with_seg_map=True, lazy_init=False)
    assert len(ds) == 40
    for info in ds:
        # the generator writes the XML names from the classes visible in the mask
        np.testing.assert_array_equal(info['gt_label'],
                                      labels_from_mask(info['seg_map_path'], range(1, 21)))
    xml = tmp_path / 'bad.xml'
    xml.write_text('<annotation><object><name>unicorn</name></object></annotation>')
    with pytest.raises(ValueError, match='unicorn.*bad.xml'):
        labels_from_xml(str(xml))
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        VOCImageLevelDataset(data_root=synthetic_voc, ann_file='nope.txt')


def test_average_precision_hand_computed():
    from wsss_mm.evaluation import average_precision
    scores = torch.tensor([[0.9], [0.8], [0.7], [0.6]])
    targets = torch.tensor([[1.], [0.], [1.], [0.]])
    # positives at ranks 1 and 3: AP = (1/1 + 2/3) / 2
    assert average_precision(scores, targets)[0].item() == pytest.approx((1 + 2 / 3) / 2)


def _train_args(voc, work_dir, *extra):
    return [
        'tools/train.py', TINY_CFG, '--work-dir', str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={voc}', f'val_dataloader.dataset.data_root={voc}',
        f'test_dataloader.dataset.data_root={voc}', *extra
    ]


def test_train_resume_test(synthetic_voc, tmp_path):
    work = tmp_path / 'work'
    every_20 = ['train_cfg.val_interval=20', 'default_hooks.checkpoint.interval=20']
    run_tool(_train_args(synthetic_voc, work, 'train_cfg.max_iters=20', *every_20))
    assert osp.isfile(work / 'iter_20.pth')
    ckpt = torch.load(work / 'iter_20.pth', weights_only=True, map_location='cpu')
    assert ckpt['meta']['iter'] == 20
    proc = run_tool(_train_args(synthetic_voc, work, 'train_cfg.max_iters=40', *every_20) +
                    ['--resume'])
    assert 'resumed' in (proc.stdout + proc.stderr).lower()
    assert osp.isfile(work / 'iter_40.pth')
    resumed = torch.load(work / 'iter_40.pth', weights_only=True, map_location='cpu')
    assert resumed['meta']['iter'] == 40
    out = tmp_path / 'metrics.json'
    run_tool(['tools/test.py', TINY_CFG, str(work / 'iter_40.pth'), '--work-dir',
              str(tmp_path / 'test'), '--out', str(out), '--cfg-options',
              f'test_dataloader.dataset.data_root={synthetic_voc}'])
    metrics = json.loads(out.read_text())
    # the tool's mAP == scikit-learn's average precision of the checkpoint's scores, computed
    # here without the Runner or MultiLabelMetric
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from sklearn.metrics import average_precision_score

    from wsss_mm.registry import DATASETS, MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(TINY_CFG)
    model = MODELS.build(cfg.model).eval()
    model.load_state_dict(torch.load(work / 'iter_40.pth', map_location='cpu',
                                     weights_only=True)['state_dict'])
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=synthetic_voc))
    scores, targets = [], []
    with torch.no_grad():
        for index in range(len(dataset)):
            data = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
            scores.append(model(data['inputs'], mode='tensor').sigmoid()[0])
            targets.append(data['data_samples'][0].gt_label)
    scores, targets = torch.stack(scores).numpy(), torch.stack(targets).numpy()
    present = targets.sum(0) > 0
    reference = 100 * np.mean([average_precision_score(targets[:, c], scores[:, c])
                               for c in np.flatnonzero(present)])
    assert metrics['cls/mAP'] == pytest.approx(reference, abs=1e-3)


def test_two_process_gloo_training(synthetic_voc, tmp_path):
    work = tmp_path / 'dist'
    run_tool(['-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}'] +
             _train_args(synthetic_voc, work, 'train_cfg.max_iters=10',
                         'train_cfg.val_interval=10', 'default_hooks.checkpoint.interval=10',
                         'train_dataloader.batch_size=4') +
             ['--launcher', 'pytorch'])
    ckpt = torch.load(work / 'iter_10.pth', weights_only=True, map_location='cpu')
    assert ckpt['meta']['iter'] == 10
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])


def test_every_registry_location_registers_something():
    """No registered-but-empty package: each ``locations`` entry provides an entry."""
    import importlib

    from mmengine.registry import Registry

    import wsss_mm.registry as registries
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    for registry in vars(registries).values():
        if not isinstance(registry, Registry) or registry.scope != registries.SCOPE:
            continue
        for location in registry._locations:
            importlib.import_module(location)
            owners = {getattr(m, '__module__', '') for m in registry.module_dict.values()}
            assert any(o.startswith(location) for o in owners), (registry.name, location)
