"""SOD dataset, SaliencyMetric and training of DHSNet through SaliencyDetector / Runner."""
import copy

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from tolerances import assert_close_f32, f32_atol
from wsss_mm.datasets.sod_dataset import LoadSaliencyAnnotations, SalientObjectDataset
from wsss_mm.evaluation.sod_metric import SaliencyMetric
from wsss_mm.registry import MODELS
from wsss_mm.saliency import DHSNet, SaliencyDetector
from wsss_mm.utils.setup_env import register_all_modules

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


@pytest.fixture(autouse=True, scope='module')
def default_scope():
    """Pipelines name mmseg / mmcv transforms by plain type: resolve them from wsss_mm."""
    register_all_modules()


def write_scene(image_path, mask_path, seed, size=(40, 48), mask_mode='L'):
    """A coloured disc on a noisy background (JPEG) and its mask (PNG, 0/255)."""
    rng = np.random.default_rng(seed)
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width]
    cy, cx, radius = rng.integers(14, 26), rng.integers(14, 34), rng.integers(7, 12)
    disc = (ys - cy)**2 + (xs - cx)**2 <= radius**2
    image = rng.integers(60, 120, size=(height, width, 3)).astype(np.uint8)
    image[disc] = rng.integers(180, 255, size=3)
    mask = disc.astype(np.uint8) * 255
    Image.fromarray(image).save(image_path, quality=95)
    if mask_mode == 'RGB':
        Image.fromarray(np.repeat(mask[..., None], 3, axis=2)).save(mask_path)
    else:
        Image.fromarray(mask).save(mask_path)
    return disc


def make_duts(root, num=4):
    (root / 'DUTS-TR-Image').mkdir(parents=True)
    (root / 'DUTS-TR-Mask').mkdir()
    return [write_scene(root / 'DUTS-TR-Image' / f'sun_{i:03d}.jpg',
                        root / 'DUTS-TR-Mask' / f'sun_{i:03d}.png', i) for i in range(num)]


LOAD_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSaliencyAnnotations'),
                 dict(type='PackSegInputs')]
TRAIN_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadSaliencyAnnotations'),
                  dict(type='Resize', scale=(32, 32), keep_ratio=False),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
TEST_PIPELINE = [dict(type='LoadImageFromFile'),
                 dict(type='Resize', scale=(32, 32), keep_ratio=False),
                 dict(type='LoadSaliencyAnnotations'), dict(type='PackSegInputs')]

# ----------------------------------------------------------------------------- dataset


def test_dataset_reads_duts_layout(tmp_path):
    discs = make_duts(tmp_path)
    dataset = SalientObjectDataset(data_root=str(tmp_path), pipeline=LOAD_PIPELINE)
    assert len(dataset) == 4
    assert dataset.metainfo['classes'] == ('background', 'salient')
    for index, disc in enumerate(discs):
        sample = dataset[index]
        assert sample['inputs'].shape == (3, 40, 48)
        assert sample['data_samples'].img_path.endswith(f'sun_{index:03d}.jpg')
        assert torch.equal(sample['data_samples'].gt_sem_seg.data[0],
                           torch.from_numpy(disc.astype(np.uint8)))


def test_dataset_reads_msra_layout_and_binarizes(tmp_path):
    folder = tmp_path / 'MSRA-B'
    folder.mkdir()
    discs = [write_scene(folder / f'{i}.jpg', folder / f'{i}.png', i, mask_mode=mode)
             for i, mode in enumerate(('L', 'RGB', 'L'))]
    # Anti-aliased grey levels: 127 -> background, 128 -> salient.
    grey = np.zeros((40, 48), np.uint8)
    grey[:, :10], grey[:, 10:20] = 127, 128
    Image.fromarray(grey).save(folder / '2.png')
    for img_dir in ('', '.'):
        dataset = SalientObjectDataset(data_root=str(folder), img_dir=img_dir, mask_dir=img_dir,
                                       pipeline=LOAD_PIPELINE)
        assert len(dataset) == 3  # the PNG masks are not taken for images
        masks = [dataset[i]['data_samples'].gt_sem_seg.data[0] for i in range(3)]
        assert torch.equal(masks[0], torch.from_numpy(discs[0].astype(np.uint8)))
        assert torch.equal(masks[1], torch.from_numpy(discs[1].astype(np.uint8)))  # RGB mask
        expected = np.zeros((40, 48), np.uint8)
        expected[:, 10:20] = 1
        assert torch.equal(masks[2], torch.from_numpy(expected))
    assert 'threshold=128' in repr(LoadSaliencyAnnotations())


def test_dataset_missing_masks_and_images(tmp_path):
    make_duts(tmp_path, num=3)
    (tmp_path / 'DUTS-TR-Mask' / 'sun_001.png').unlink()
    with pytest.raises(FileNotFoundError, match='1 image'):
        SalientObjectDataset(data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='no "\\*.bmp" image'):
        SalientObjectDataset(data_root=str(tmp_path), img_suffix='.bmp')

def test_dataset_reads_a_listed_split(tmp_path):
    """ECSSD layout (images/, masks/) with an id list: only the listed images, in its order;
    a listed id without an image, or a missing list, names the file."""
    (tmp_path / 'images').mkdir()
    (tmp_path / 'masks').mkdir()
    discs = [write_scene(tmp_path / 'images' / f'{i:04d}.jpg', tmp_path / 'masks' / f'{i:04d}.png',
                         i) for i in range(1, 5)]
    (tmp_path / 'test.txt').write_text('0003\n0001\n')
    dataset = SalientObjectDataset(data_root=str(tmp_path), img_dir='images', mask_dir='masks',
                                   ann_file='test.txt', pipeline=LOAD_PIPELINE)
    assert [dataset[i]['data_samples'].img_path[-8:] for i in range(2)] == ['0003.jpg',
                                                                           '0001.jpg']
    assert torch.equal(dataset[0]['data_samples'].gt_sem_seg.data[0],
                       torch.from_numpy(discs[2].astype(np.uint8)))
    (tmp_path / 'bad.txt').write_text('0002\n0009\n')
    (tmp_path / 'masks' / '0009.png').write_bytes((tmp_path / 'masks' / '0002.png').read_bytes())
    with pytest.raises(FileNotFoundError, match='1 image.*bad.txt do not exist'):
        SalientObjectDataset(data_root=str(tmp_path), img_dir='images', mask_dir='masks',
                             ann_file='bad.txt')
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        SalientObjectDataset(data_root=str(tmp_path), img_dir='images', mask_dir='masks',
                             ann_file='missing.txt')

# ----------------------------------------------------------------------------- metric


def metric_sample(saliency, mask):
    sample = SegDataSample()
    sample.pred_saliency = PixelData(data=torch.tensor(saliency)[None])
    sample.gt_sem_seg = PixelData(data=torch.tensor(mask)[None])
    return sample.to_dict()


def test_metric_hand_example():
    # Image A: 8-bit levels round(255 s) = fg {255, 204, 102}, bg {153, 51, 0}.
    #   thresholds 154..204: P = 1, R = 2/3 -> F = 1.3 (2/3) / (0.3 + 2/3) = 26/29 (its max)
    #   thresholds 52..102: P = 3/4, R = 1 -> F = 0.975 / 1.225 = 39/49
    #   MAE = (0 + .2 + .2 + .6 + 0 + .6) / 6 = 4/15
    # Image B: levels fg {128} (127.5 rounds half to even), bg {26}, one ignored pixel.
    #   thresholds 27..128: F = 1; 129..255: F = 0. MAE = (0.5 + 0.1) / 2 = 0.3
    # Mean F curve: 52..102 -> (39/49 + 1) / 2 = 44/49 is the maximum
    # (154..204 -> 13/29; 27..51 -> (0.78/1.18 + 1)/2 = 0.83).
    metric = SaliencyMetric()
    metric.process({}, [
        metric_sample([[1.0, 0.8, 0.2], [0.6, 0.0, 0.4]], [[1, 1, 0], [0, 0, 1]]),
        metric_sample([[0.5, 0.1, 0.9]], [[1, 0, 255]]),
    ])
    results = metric.compute_metrics(metric.results)
    assert results['maxF'] == pytest.approx(44 / 49, abs=1e-9)
    # float32 MAE of values <= 1 over 6 + 2 pixels
    assert results['MAE'] == pytest.approx((4 / 15 + 0.3) / 2, abs=f32_atol(1.0, terms=8))
    single = SaliencyMetric()
    single.process({}, [metric_sample([[1.0, 0.8, 0.2], [0.6, 0.0, 0.4]], [[1, 1, 0], [0, 0, 1]])])
    assert single.compute_metrics(single.results)['maxF'] == pytest.approx(26 / 29, abs=1e-9)


def test_metric_matches_brute_force_loop():
    rng = np.random.default_rng(0)
    samples, curves, maes = [], [], []
    for _ in range(3):
        saliency = rng.random((9, 11)).astype(np.float32)
        mask = (rng.random((9, 11)) > 0.6).astype(np.uint8)
        samples.append(metric_sample(saliency, mask))
        levels, fg = np.round(saliency.astype(np.float64) * 255), mask == 1
        curve = []
        for k in range(256):
            predicted = levels >= k
            tp = np.sum(predicted & fg)
            p = tp / predicted.sum() if predicted.sum() else 0.0
            r = tp / fg.sum()
            curve.append(1.3 * p * r / (0.3 * p + r) if p + r else 0.0)
        curves.append(curve)
        maes.append(np.abs(saliency - mask).mean())
    metric = SaliencyMetric()
    metric.process({}, samples)
    results = metric.compute_metrics(metric.results)
    assert results['maxF'] == pytest.approx(np.mean(curves, axis=0).max(), abs=1e-9)
    assert results['MAE'] == pytest.approx(np.mean(maes), abs=f32_atol(1.0, terms=3 * 9 * 11))

# ----------------------------------------------------------------------------- training


MODEL_CFG = dict(
    type='SaliencyDetector', detector=dict(type='DHSNet', input_size=32),
    data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                           size=(32, 32), pad_val=0, seg_pad_val=255))


def test_sgd_steps_decrease_the_deep_supervision_loss(tmp_path):
    torch.manual_seed(0)
    np.random.seed(0)  # RandomFlip
    make_duts(tmp_path)
    dataset = SalientObjectDataset(data_root=str(tmp_path), pipeline=TRAIN_PIPELINE)
    batch = pseudo_collate([dataset[i] for i in range(4)])
    model = MODELS.build(copy.deepcopy(MODEL_CFG))
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    model.train()
    history = []
    for _ in range(8):
        log_vars = model.train_step(batch, optim_wrapper)
        history.append(log_vars['loss'].item())
    assert sorted(k for k in log_vars if k.startswith('loss_side')) == [
        f'loss_side{i}' for i in range(5)]
    assert history[-1] < 0.8 * history[0], history

    model.eval()
    test_set = SalientObjectDataset(data_root=str(tmp_path), pipeline=TEST_PIPELINE)
    outputs = model.val_step(pseudo_collate([test_set[i] for i in range(2)]))
    assert len(outputs) == 2
    for sample in outputs:
        saliency = sample.pred_saliency.data  # back at the original 40×48
        assert saliency.shape == (1, 40, 48) and 0 <= saliency.min() and saliency.max() <= 1
        assert sample.gt_sem_seg.data.shape == (1, 40, 48)
        assert torch.equal(sample.pred_sem_seg.data, (saliency >= 0.5).long())


def test_loss_ignores_padding_and_checks_weights():
    torch.manual_seed(0)
    model = SaliencyDetector(detector=DHSNet(input_size=32), loss_weights=[1, 0, 0, 0, 0])
    images = torch.randn(1, 3, 32, 32)
    masks = torch.randint(0, 2, (1, 32, 32))
    padded = masks.clone()
    padded[:, :, 16:] = 255

    def loss(mask, images=images):
        sample = SegDataSample(gt_sem_seg=PixelData(data=mask))
        return model.train()(images, [sample], mode='loss')

    full, half = loss(masks), loss(padded)
    assert all(half[f'loss_side{i}'] == 0 for i in range(1, 5))
    # Only the coarse map (one constant 4×4 logit field upsampled) is weighted;
    # the ignored half must not enter the mean: compare with a hand BCE.
    logits = model.detector.train()(images)[0]
    up = torch.nn.functional.interpolate(logits, size=(32, 32), mode='bilinear',
                                         align_corners=False)[0, 0]
    keep = padded[0] != 255
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        up[keep], masks[0][keep].float())
    # the same logits; only the order of the float32 mean over the kept pixels differs
    assert_close_f32(half['loss_side0'], expected, terms=int(keep.sum()))
    assert not torch.isclose(full['loss_side0'], half['loss_side0'])
    with pytest.raises(ValueError, match='5 side outputs'):
        SaliencyDetector(detector=DHSNet(input_size=32), loss_weights=[1, 1])(
            images, [SegDataSample(gt_sem_seg=PixelData(data=masks))], mode='loss')


def test_predict_removes_padding_and_restores_original_size():
    torch.manual_seed(0)
    model = SaliencyDetector(detector=DHSNet(input_size=32)).eval()
    images = torch.randn(1, 3, 32, 32)
    # Padding 2 right / 8 bottom: the valid region is [:24, :30]; the original was 48×60.
    samples = [SegDataSample(metainfo=dict(ori_shape=shape, padding_size=[0, 2, 0, 8]))
               for shape in ((24, 30), (48, 60))]
    outputs = [model(images, [sample], mode='predict')[0].pred_saliency.data
               for sample in samples]
    crop = model.detector(images)[:, :, :24, :30]
    torch.testing.assert_close(outputs[0], crop[0])
    expected = torch.nn.functional.interpolate(crop, size=(48, 60), mode='bilinear',
                                               align_corners=False)[0]
    torch.testing.assert_close(outputs[1], expected)
    with pytest.raises(ValueError, match='invalid mode'):
        model(images, mode='features')


def test_runner_trains_and_validates(tmp_path):
    make_duts(tmp_path / 'train')
    make_duts(tmp_path / 'val', num=2)
    dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      sampler=dict(type='InfiniteSampler', shuffle=True),
                      dataset=dict(type='SalientObjectDataset', data_root=str(tmp_path / 'train'),
                                   pipeline=TRAIN_PIPELINE))
    val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                          sampler=dict(type='DefaultSampler', shuffle=False),
                          dataset=dict(type='SalientObjectDataset',
                                       data_root=str(tmp_path / 'val'), pipeline=TEST_PIPELINE))
    runner = Runner(
        model=copy.deepcopy(MODEL_CFG),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dataloader,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=3, val_interval=3),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        val_dataloader=val_dataloader,
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='SaliencyMetric'),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=3, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        default_scope='wsss_mm')
    runner.train()
    metrics = runner.val()
    assert set(metrics) == {'sod/MAE', 'sod/maxF'}
    assert 0 <= metrics['sod/MAE'] <= 1 and 0 <= metrics['sod/maxF'] <= 1
    # The runner checkpoint loads back into a bare DHSNet.
    restored = DHSNet(input_size=32, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'work' / 'iter_3.pth'), prefix='detector.'))
    restored.init_weights()
    trained = runner.model.detector.state_dict()
    for key, value in restored.state_dict().items():
        assert torch.equal(value, trained[key]), key
