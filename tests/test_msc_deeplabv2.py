"""MSCDeepLabV2 + ASPPv2Head: structure, multi-scale max fusion, training and prediction."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch.nn.modules.batchnorm import _BatchNorm

from tolerances import assert_close_f32
from wsss_mm.models import ASPPv2Head, MSCDeepLabV2
from wsss_mm.registry import MODELS
from wsss_mm.utils.setup_env import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_CLASSES = 21
SIZE = 65

# DeepLab-v2 learning-rate multipliers: backbone ×1, ASPP weights ×10, ASPP biases ×20
# without weight decay. mmengine applies the longest matching custom key and then
# skips bias_lr_mult, so the ASPP biases need keys of their own.
PARAMWISE_CFG = dict(custom_keys={
    'decode_head': dict(lr_mult=10.0),
    **{f'decode_head.convs.{i}.bias': dict(lr_mult=20.0, decay_mult=0.0) for i in range(4)},
})


@pytest.fixture(autouse=True, scope='module')
def default_scope():
    """Configs name mmseg components (ResNet, SegDataPreProcessor) by plain type."""
    register_all_modules()


def tiny_cfg(scales=(1.0, 0.75, 0.5), test_cfg=None):
    """A narrow dilated ResNet-18 (output stride 8) with the DeepLab-v2 ASPP head."""
    return dict(
        type='MSCDeepLabV2',
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255,
            size=(SIZE, SIZE)),
        scales=scales,
        backbone=dict(
            type='ResNet', depth=18, base_channels=16, stem_channels=16, num_stages=4,
            out_indices=(3, ), strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
            norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True,
            zero_init_residual=False),
        decode_head=dict(type='ASPPv2Head', in_channels=128, num_classes=NUM_CLASSES),
        test_cfg=test_cfg or dict(mode='whole'))


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    # non-trivial frozen statistics, so that a wrongly updated BN would show
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model


def make_batch(batch=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, SIZE, SIZE), generator=generator, dtype=torch.uint8)
              for _ in range(batch)]
    samples = []
    for _ in range(batch):
        label = torch.randint(0, NUM_CLASSES, (1, SIZE, SIZE), generator=generator)
        label[:, :5] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(ori_shape=(SIZE, SIZE), img_shape=(SIZE, SIZE),
                                 pad_shape=(SIZE, SIZE)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_aspp_v2_structure_sum_and_init():
    head = ASPPv2Head(in_channels=64, num_classes=NUM_CLASSES)
    head.init_weights()
    assert len(head.convs) == 4
    for conv, rate in zip(head.convs, (6, 12, 18, 24)):
        assert conv.kernel_size == (3, 3) and conv.dilation == (rate, rate)
        assert conv.padding == (rate, rate) and conv.out_channels == NUM_CLASSES
        assert torch.all(conv.bias == 0)
        assert abs(conv.weight.std().item() - 0.01) < 0.001
    feature = torch.randn(2, 64, 9, 11)
    expected = sum(F.conv2d(feature, c.weight, c.bias, padding=r, dilation=r)
                   for c, r in zip(head.convs, (6, 12, 18, 24)))
    out = head((torch.zeros(1), feature))
    assert out.shape == (2, NUM_CLASSES, 9, 11)
    torch.testing.assert_close(out, expected)
    with pytest.raises(ValueError):
        ASPPv2Head(in_channels=8, num_classes=1)


def test_forward_scales_shapes_and_max_fusion():
    model = build(tiny_cfg()).eval()
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        outputs = model.forward_scales(x)
        net = lambda image: model.decode_head(model.backbone(image))  # noqa: E731
        manual = [net(x),
                  net(F.interpolate(x, size=(48, 48), mode='bilinear', align_corners=False)),
                  net(F.interpolate(x, size=(32, 32), mode='bilinear', align_corners=False))]
    assert [tuple(o.shape[2:]) for o in outputs] == [(9, 9), (6, 6), (4, 4), (9, 9)]
    for out, ref in zip(outputs[:3], manual):
        torch.testing.assert_close(out, ref)
    upsampled = [F.interpolate(m, size=(9, 9), mode='bilinear', align_corners=False)
                 for m in manual[1:]]
    fused = torch.maximum(torch.maximum(manual[0], upsampled[0]), upsampled[1])
    torch.testing.assert_close(outputs[3], fused)
    # mode='tensor' returns the same list
    with torch.no_grad():
        tensors = model(x, mode='tensor')
    assert len(tensors) == 4
    torch.testing.assert_close(tensors[3], fused)


def test_single_scale_is_one_cross_entropy():
    model = build(tiny_cfg(scales=(1.0, ))).eval()
    data = model.data_preprocessor(make_batch(), training=True)
    with torch.no_grad():
        outputs = model.forward_scales(data['inputs'])
        losses = model(**data, mode='loss')
    assert len(outputs) == 1
    # labels resized as DeepLab-v2 does, with PIL NEAREST
    height, width = outputs[0].shape[2:]
    small = torch.stack([torch.from_numpy(np.array(Image.fromarray(
        s.gt_sem_seg.data[0].numpy().astype(np.uint8)).resize((width, height), Image.NEAREST)))
        for s in data['data_samples']]).long()
    expected = F.cross_entropy(outputs[0].double(), small, ignore_index=255)
    # a float32 mean of O(1) log-softmax terms over the pixels
    assert_close_f32(losses['loss_seg'], expected, terms=small.numel() * NUM_CLASSES)
    # pixel accuracy (%) of the logits upsampled (bilinear) to the labels, over labelled pixels
    full = torch.stack([s.gt_sem_seg.data[0] for s in data['data_samples']]).long()
    upsampled = F.interpolate(outputs[0], size=full.shape[1:], mode='bilinear',
                              align_corners=model.align_corners)
    valid = full != 255
    by_hand = (upsampled.argmax(1) == full)[valid].double().mean() * 100
    assert losses['acc_seg'].item() == pytest.approx(float(by_hand), abs=1e-3)


def test_train_step_keeps_batchnorm_frozen():
    model = build(tiny_cfg())
    optim_wrapper = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
    bn_state = {k: v.clone() for k, v in model.state_dict().items()
                if 'bn' in k or 'downsample.1' in k}
    conv_before = model.backbone.layer1[0].conv1.weight.detach().clone()
    head_before = model.decode_head.convs[0].weight.detach().clone()
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not m.training for m in bns)
    assert all(not p.requires_grad for m in bns for p in m.parameters())
    log_vars = model.train_step(make_batch(), optim_wrapper)
    assert torch.isfinite(log_vars['loss']) and log_vars['loss'] > 0
    assert all(not m.training for m in bns)
    after = model.state_dict()
    for key, value in bn_state.items():
        assert torch.equal(after[key], value), key
    assert not torch.equal(model.backbone.layer1[0].conv1.weight, conv_before)
    assert not torch.equal(model.decode_head.convs[0].weight, head_before)


def test_predict_whole_removes_padding_and_resizes():
    model = build(tiny_cfg()).eval()
    batch = make_batch()
    # the second image was 50×60 before padding to 65×65 (right 5, bottom 15)
    batch['data_samples'][1].set_metainfo(dict(ori_shape=(50, 60), padding_size=[0, 5, 0, 15]))
    with torch.no_grad():
        results = model.test_step(copy.deepcopy(batch))
        inputs = model.data_preprocessor(batch, training=False)['inputs']
        fused = F.interpolate(model.forward_scales(inputs)[-1], size=(SIZE, SIZE),
                              mode='bilinear', align_corners=False)
    assert isinstance(results[0], SegDataSample)
    assert results[0].seg_logits.data.shape == (NUM_CLASSES, SIZE, SIZE)
    assert results[1].pred_sem_seg.data.shape == (1, 50, 60)
    torch.testing.assert_close(results[0].seg_logits.data, fused[0])
    torch.testing.assert_close(results[1].seg_logits.data, fused[1, :, :50, :60])
    assert torch.equal(results[1].pred_sem_seg.data[0], fused[1, :, :50, :60].argmax(0))


def test_predict_slide_with_full_crop_equals_whole():
    whole = build(tiny_cfg()).eval()
    slide = build(tiny_cfg(test_cfg=dict(mode='slide', crop_size=(SIZE, SIZE),
                                         stride=(32, 32)))).eval()
    tiled = build(tiny_cfg(test_cfg=dict(mode='slide', crop_size=(33, 33),
                                         stride=(32, 32)))).eval()
    with torch.no_grad():
        a = whole.test_step(make_batch(batch=1))[0].seg_logits.data
        b = slide.test_step(make_batch(batch=1))[0].seg_logits.data
        c = tiled.test_step(make_batch(batch=1))[0].seg_logits.data
    torch.testing.assert_close(a, b)
    assert c.shape == a.shape and not torch.allclose(a, c)


def test_optimizer_lr_multipliers():
    model = build(tiny_cfg())
    optim_wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
        paramwise_cfg=PARAMWISE_CFG))
    group_of = {id(p): g for g in optim_wrapper.optimizer.param_groups for p in g['params']}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            assert id(param) not in group_of, name  # frozen BN is not optimized
            continue
        group = group_of[id(param)]
        if name.startswith('decode_head') and name.endswith('bias'):
            expected = (0.02, 0.0)
        elif name.startswith('decode_head'):
            expected = (0.01, 5e-4)
        else:
            expected = (0.001, 5e-4)
        assert (group['lr'], group['weight_decay']) == pytest.approx(expected), name
    assert sum(1 for n, p in model.named_parameters() if p.requires_grad
               and n.startswith('decode_head') and n.endswith('bias')) == 4


def test_r101_base_config_structure():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/deeplabv2_r101_aspp.py'))
    assert cfg.model.scales == (1.0, )
    cfg.model.backbone.init_cfg = None  # no download in tests
    model = MODELS.build(cfg.model)
    assert isinstance(model, MSCDeepLabV2)
    backbone = model.backbone
    assert [len(getattr(backbone, f'layer{i}')) for i in range(1, 5)] == [3, 4, 23, 3]
    assert backbone.conv1.kernel_size == (7, 7)
    assert backbone.layer2[0].conv2.stride == (2, 2)
    assert backbone.layer3[0].conv2.stride == (1, 1)
    assert backbone.layer3[22].conv2.dilation == (2, 2)
    assert backbone.layer4[2].conv2.dilation == (4, 4)
    assert model.decode_head.convs[0].in_channels == 2048
    assert [c.dilation[0] for c in model.decode_head.convs] == [6, 12, 18, 24]
    model.train()
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    model.eval()
    with torch.no_grad():
        logits = model.forward_scales(torch.randn(1, 3, 33, 33))
    assert len(logits) == 1 and logits[0].shape == (1, 21, 5, 5)


def test_scales_validation():
    with pytest.raises(ValueError, match='1.0'):
        MODELS.build(tiny_cfg(scales=(0.75, 0.5)))
    with pytest.raises(ValueError):
        MODELS.build(tiny_cfg(scales=(1.0, 1.0)))
