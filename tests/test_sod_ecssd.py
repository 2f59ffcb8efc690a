"""The ECSSD saliency config, reduced: a few real photos train the EfficientNet-Lite0 FPN
detector through the Runner, and the project's MAE / max F equal a numpy recomputation on the
maps written to disk. Skipped when ../shared/data/ecssd is absent."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from test_efficientnet_lite import checkpoint_or_skip
from tolerances import f32_atol
from wsss_mm.evaluation.sod_metric import SaliencyMetric
from wsss_mm.io import quantize_saliency, read_saliency, write_saliency
from wsss_mm.utils.setup_env import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ECSSD = osp.join(REPO, '..', 'shared', 'data', 'ecssd')
CONFIG = osp.join(REPO, 'configs', 'saliency', 'effnet-lite0-fpn_120iter_ecssd.py')


def numpy_mae_max_f(maps, masks, beta2=0.3):
    """Mean MAE and the max over the 256 thresholds of the mean F-measure, by hand."""
    maes, curves = [], []
    for levels, mask in zip(maps, masks):
        fg = mask >= 128
        maes.append(np.abs(levels / 255.0 - fg).mean())
        curve = []
        for k in range(256):
            predicted = levels >= k
            tp = np.sum(predicted & fg)
            p = tp / predicted.sum() if predicted.sum() else 0.0
            r = tp / fg.sum() if fg.sum() else 0.0
            curve.append((1 + beta2) * p * r / (beta2 * p + r) if p + r else 0.0)
        curves.append(curve)
    return float(np.mean(maes)), float(np.mean(curves, axis=0).max())


def test_reduced_ecssd_training_and_evaluation(tmp_path):
    if not osp.isdir(ECSSD):
        pytest.skip(f'ECSSD not found at {ECSSD}')
    checkpoint_or_skip()
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = ECSSD
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.dataset.indices = 8  # the first 8 training ids
    cfg.val_dataloader.dataset.indices = 3  # the first 3 held-out ids
    cfg.param_scheduler = None  # a constant learning rate for the few steps
    cfg.train_cfg.update(max_iters=8, val_interval=8)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=8, save_best=None)
    cfg.work_dir = str(tmp_path / 'work')
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 8
    # 2 epochs of the same 8 photos: the second epoch's loss is below the first's
    assert np.mean(losses[4:]) < 0.9 * np.mean(losses[:4]), losses
    metrics = runner.val()

    # the maps, written as the pipeline stores saliency (8-bit PNG), and the masks from disk
    model = runner.model.eval()
    maps, masks = [], []
    metric = SaliencyMetric()
    for batch in runner.val_dataloader:
        for sample in model.val_step(batch):
            path = str(tmp_path / (osp.basename(sample.img_path)[:-4] + '.png'))
            write_saliency(path, quantize_saliency(sample.pred_saliency.data[0]))
            levels = read_saliency(path)
            maps.append(levels)
            masks.append(np.array(Image.open(sample.seg_map_path).convert('L')))
            read_back = torch.from_numpy(levels).float()[None] / 255
            sample.pred_saliency.data = read_back
            metric.process({}, [sample.to_dict()])
    assert len(maps) == 3 and maps[0].shape == masks[0].shape  # full mask size
    mae, max_f = numpy_mae_max_f(maps, masks)
    ours = metric.compute_metrics(metric.results)
    pixels = max(m.size for m in maps)
    assert ours['maxF'] == pytest.approx(max_f, abs=1e-9)
    assert ours['MAE'] == pytest.approx(mae, abs=f32_atol(1.0, terms=pixels))
    # the validation loop scored the unquantized maps: within half an 8-bit level
    assert metrics['sod/MAE'] == pytest.approx(mae, abs=0.5 / 255 + f32_atol(1.0, pixels))


def test_demo_reuses_a_saliency_checkpoint_and_names_a_missing_one(tmp_path):
    """demo --sal-ckpt without --sal-data: the checkpoint is used as given (nothing trained,
    nothing scored); a missing one stops the demo with its path."""
    import argparse
    import sys
    sys.path.insert(0, osp.join(REPO, 'tools'))
    from demo import real_saliency
    checkpoint = tmp_path / 'detector.pth'
    checkpoint.write_bytes(b'')
    args = argparse.Namespace(sal_data=None, sal_ckpt=str(checkpoint), sod_iters=None, seed=0)
    assert real_saliency(args, str(tmp_path / 'work')) == dict(checkpoint=str(checkpoint))
    args.sal_ckpt = str(tmp_path / 'missing.pth')
    with pytest.raises(SystemExit, match='missing.pth not found'):
        real_saliency(args, str(tmp_path / 'work'))
