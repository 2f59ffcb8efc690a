"""tools/convert_deeplabv2_coco_init.py on synthetic deeplab-pytorch state dicts."""
import importlib.util
import math
import os.path as osp
import sys
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from wsss_mm.registry import MODELS
from wsss_mm.utils.setup_env import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    'convert_deeplabv2_coco_init', osp.join(REPO, 'tools/convert_deeplabv2_coco_init.py'))
converter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(converter)

N_BLOCKS = (3, 4, 6, 3)  # ResNet-50 layout keeps the test light; the names do not depend on depth
NUM_CLASSES = 21


@pytest.fixture(autouse=True, scope='module')
def default_scope():
    """Configs name mmseg components (ResNet, SegDataPreProcessor) by plain type."""
    register_all_modules()


def deeplab_pytorch_state_dict(prefix, with_aspp, with_coco_fc, seed=0):
    """A state dict in deeplab-pytorch's layout (libs/models/resnet.py, deeplabv2.py).

    Written from that layout: stem ``layer1.conv1.{conv,bn}``, bottleneck stages
    ``layer2..layer5`` of blocks ``block1..`` with ``reduce`` (1×1, carries the
    stride), ``conv3x3``, ``increase`` (1×1) and, in block1, ``shortcut``; every
    conv bias-free and followed by a BN; ``aspp.c0..c3`` 3×3 convs with biases;
    ``fc`` the 91-class COCO 1×1 classifier of the DeepLabV1 container.
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}

    def conv_bn(name, out_ch, in_ch, k):
        # He-scaled weights keep activations O(1) through the 50 layers of the forward test
        state[f'{prefix}{name}.conv.weight'] = torch.randn(
            out_ch, in_ch, k, k, generator=generator) * math.sqrt(2 / (in_ch * k * k))
        for param in ('weight', 'bias', 'running_mean'):
            state[f'{prefix}{name}.bn.{param}'] = torch.randn(out_ch, generator=generator)
        state[f'{prefix}{name}.bn.running_var'] = torch.rand(out_ch, generator=generator) + 0.5
        state[f'{prefix}{name}.bn.num_batches_tracked'] = torch.tensor(0)

    conv_bn('layer1.conv1', 64, 3, 7)
    in_ch = 64
    for stage, n_blocks in enumerate(N_BLOCKS, start=2):
        out_ch = 256 * 2 ** (stage - 2)
        mid = out_ch // 4
        for block in range(1, n_blocks + 1):
            base = f'layer{stage}.block{block}'
            conv_bn(f'{base}.reduce', mid, in_ch if block == 1 else out_ch, 1)
            conv_bn(f'{base}.conv3x3', mid, mid, 3)
            conv_bn(f'{base}.increase', out_ch, mid, 1)
            if block == 1:
                conv_bn(f'{base}.shortcut', out_ch, in_ch, 1)
        in_ch = out_ch
    if with_aspp:
        for i in range(4):
            state[f'{prefix}aspp.c{i}.weight'] = torch.randn(
                NUM_CLASSES, 2048, 3, 3, generator=generator) / math.sqrt(2048 * 9)
            state[f'{prefix}aspp.c{i}.bias'] = torch.randn(NUM_CLASSES, generator=generator)
    if with_coco_fc:
        state['fc.weight'] = torch.randn(91, 2048, 1, 1, generator=generator)
        state['fc.bias'] = torch.randn(91, generator=generator)
    return state


@pytest.fixture(scope='module')
def model(default_scope):
    return MODELS.build(dict(
        type='MSCDeepLabV2',
        backbone=dict(type='CaffeResNet', depth=50, out_indices=(3, ), strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), style='caffe',
                      norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True),
        decode_head=dict(type='ASPPv2Head', in_channels=2048, num_classes=NUM_CLASSES)))


def test_trained_deeplabv2_layout_loads_strictly(model):
    source = deeplab_pytorch_state_dict('base.', with_aspp=True, with_coco_fc=False)
    converted = converter.convert_state_dict(source)
    assert len(converted) == len(source)
    model.load_state_dict(converted, strict=True)
    backbone = model.backbone
    checks = {
        'base.layer1.conv1.conv.weight': backbone.conv1.weight,
        'base.layer1.conv1.bn.running_mean': backbone.bn1.running_mean,
        'base.layer2.block1.reduce.conv.weight': backbone.layer1[0].conv1.weight,
        'base.layer2.block1.shortcut.conv.weight': backbone.layer1[0].downsample[0].weight,
        'base.layer2.block1.shortcut.bn.bias': backbone.layer1[0].downsample[1].bias,
        'base.layer3.block2.conv3x3.bn.weight': backbone.layer2[1].bn2.weight,
        'base.layer4.block6.increase.conv.weight': backbone.layer3[5].conv3.weight,
        'base.layer4.block6.conv3x3.bn.running_var': backbone.layer3[5].bn2.running_var,
        'base.layer5.block3.increase.bn.running_mean': backbone.layer4[2].bn3.running_mean,
        'base.aspp.c0.weight': model.decode_head.convs[0].weight,
        'base.aspp.c3.bias': model.decode_head.convs[3].bias,
    }
    for key, target in checks.items():
        assert torch.equal(source[key], target), key
    # caffe ResNet strides in the 1×1 reduce conv, as mmseg's style='caffe'
    assert backbone.layer2[0].conv1.stride == (2, 2) and backbone.layer2[0].conv2.stride == (1, 1)


def test_coco_init_layout_drops_classifier_and_keeps_head_missing(model):
    source = deeplab_pytorch_state_dict('', with_aspp=False, with_coco_fc=True, seed=1)
    converted = converter.convert_state_dict(source)
    assert not any(k.startswith('decode_head') or 'fc' in k for k in converted)
    result = model.load_state_dict(converted, strict=False)
    assert result.unexpected_keys == []
    assert sorted(result.missing_keys) == sorted(
        f'decode_head.convs.{i}.{p}' for i in range(4) for p in ('weight', 'bias'))
    assert torch.equal(model.backbone.layer4[0].conv2.weight,
                       source['layer5.block1.conv3x3.conv.weight'])


def test_unknown_key_is_an_error():
    with pytest.raises(KeyError, match='layer9'):
        converter.convert_state_dict({'base.layer9.block1.reduce.conv.weight': torch.zeros(1)})


def test_command_line_writes_a_weights_only_checkpoint(tmp_path, monkeypatch):
    source = {'base.layer1.conv1.conv.weight': torch.randn(64, 3, 7, 7),
              'base.layer2.block1.shortcut.bn.running_var': torch.rand(256),
              'fc.bias': torch.randn(91)}
    src, dst = tmp_path / 'in.pth', tmp_path / 'out' / 'init.pth'
    torch.save(source, src)
    monkeypatch.setattr(sys, 'argv', ['convert', str(src), str(dst)])
    converter.main()
    saved = torch.load(dst, map_location='cpu', weights_only=True)['state_dict']
    assert sorted(saved) == ['backbone.conv1.weight', 'backbone.layer1.0.downsample.1.running_var']
    assert torch.equal(saved['backbone.conv1.weight'], source['base.layer1.conv1.conv.weight'])
    assert list(tmp_path.joinpath('out').iterdir()) == [dst]


class _ConvBn(nn.Sequential):
    """deeplab-pytorch's ``_ConvBnReLU``: bias-free conv, BN, optional ReLU (keys conv./bn.)."""

    def __init__(self, in_ch, out_ch, kernel, stride, padding, dilation, relu):
        layers = [('conv', nn.Conv2d(in_ch, out_ch, kernel, stride, padding, dilation,
                                     bias=False)),
                  ('bn', nn.BatchNorm2d(out_ch, eps=1e-5))]
        super().__init__(OrderedDict(layers + ([('relu', nn.ReLU())] if relu else [])))


class _Bottleneck(nn.Module):
    """MSRA bottleneck: stride in ``reduce`` (1×1), dilation in ``conv3x3``."""

    def __init__(self, in_ch, out_ch, stride, dilation, shortcut):
        super().__init__()
        mid = out_ch // 4
        self.reduce = _ConvBn(in_ch, mid, 1, stride, 0, 1, True)
        self.conv3x3 = _ConvBn(mid, mid, 3, 1, dilation, dilation, True)
        self.increase = _ConvBn(mid, out_ch, 1, 1, 0, 1, False)
        self.shortcut = _ConvBn(in_ch, out_ch, 1, stride, 0, 1, False) if shortcut else None

    def forward(self, x):
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.increase(self.conv3x3(self.reduce(x))) + skip)


class _ASPP(nn.Module):
    """Sum of four dilated 3×3 convs with biases, keys ``c0..c3``."""

    def __init__(self, in_ch, num_classes, rates=(6, 12, 18, 24)):
        super().__init__()
        for i, rate in enumerate(rates):
            self.add_module(f'c{i}', nn.Conv2d(in_ch, num_classes, 3, 1, rate, rate, bias=True))

    def forward(self, x):
        return sum(branch(x) for branch in self.children())


class _DeepLabV2Reference(nn.Sequential):
    """DeepLab-v2 in deeplab-pytorch's module layout, written independently of mmseg.

    ``layer1`` = stem (7×7/2 conv + 3×3/2 max-pool, padding 1, **ceil mode**),
    ``layer2..5`` = bottleneck stages (strides 1, 2, 1, 1; dilations 1, 1, 2, 4),
    ``aspp``: output stride 8.
    """

    def __init__(self, n_blocks=N_BLOCKS, num_classes=NUM_CLASSES):
        stages = []
        in_ch = 64
        for index, (n, stride, dilation) in enumerate(zip(n_blocks, (1, 2, 1, 1), (1, 1, 2, 4))):
            out_ch = 256 * 2 ** index
            blocks = [(f'block{j + 1}', _Bottleneck(in_ch if j == 0 else out_ch, out_ch,
                                                     stride if j == 0 else 1, dilation, j == 0))
                      for j in range(n)]
            stages.append((f'layer{index + 2}', nn.Sequential(OrderedDict(blocks))))
            in_ch = out_ch
        stem = nn.Sequential(OrderedDict([
            ('conv1', _ConvBn(3, 64, 7, 2, 3, 1, True)),
            ('pool', nn.MaxPool2d(3, 2, 1, ceil_mode=True))]))
        super().__init__(OrderedDict([('layer1', stem), *stages,
                                      ('aspp', _ASPP(in_ch, num_classes))]))


def test_converted_weights_compute_what_deeplab_pytorch_computes(model):
    """Forward of the converted state dict == forward of the deeplab-pytorch layout.

    60×76 input: the stem's 30×38 map pools to 16×20 in ceil mode (15×19 in floor
    mode), so the caffe stem is exercised in both directions. Both nets run in
    float64; the only differences are summation orders (~1e-13 relative).
    """
    source = deeplab_pytorch_state_dict('base.', with_aspp=True, with_coco_fc=False, seed=3)
    reference = _DeepLabV2Reference().double().eval()
    reference.load_state_dict({k[len('base.'):]: v for k, v in source.items()}, strict=True)
    ours = MODELS.build(dict(
        type='MSCDeepLabV2',
        backbone=dict(type='CaffeResNet', depth=50, out_indices=(3, ), strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), norm_cfg=dict(type='BN', requires_grad=False),
                      norm_eval=True),
        decode_head=dict(type='ASPPv2Head', in_channels=2048, num_classes=NUM_CLASSES)))
    ours.load_state_dict(converter.convert_state_dict(source), strict=True)
    ours = ours.double().eval()
    image = torch.randn(1, 3, 60, 76, generator=torch.Generator().manual_seed(0),
                        dtype=torch.float64)
    with torch.no_grad():
        expected = reference(image)
        got = ours.forward_scales(image)[0]
    assert expected.shape == got.shape == (1, NUM_CLASSES, 8, 10)
    scale = expected.abs().max().item()
    assert scale > 0.1  # the nets compute something, not zeros
    torch.testing.assert_close(got, expected, rtol=0,
                               atol=1e3 * torch.finfo(torch.float64).eps * scale)


def _coco_msc_model(backbone_type):
    """The COCO + MSC config's model with a narrow ResNet-50 (sizes do not depend on width)."""
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/xu2019/deeplabv2_r101-aspp-coco-msc_20k_voc12aug-pseudo.py'))
    cfg.model.backbone.update(depth=50, base_channels=8, stem_channels=8)
    cfg.model.decode_head.in_channels = 8 * 8 * 4
    if backbone_type is not None:
        cfg.model.backbone.type = backbone_type
    return MODELS.build(cfg.model).eval()


def test_coco_configs_give_deeplab_logit_sizes():
    """A 321 crop gives 41/31/21 logits at ×1/×0.75/×0.5 (DeepLab-v2), a 375×500 image 48×63.

    By hand: 321 → conv1 161 → pool 81 → 41; ×0.75 = 240 → 120 → ⌈59.5⌉+1 = 61 → 31;
    ×0.5 = 160 → 80 → ⌈39.5⌉+1 = 41 → 21. mmseg's floor-mode stem gives 60 → 30 and 40 → 20.
    375 → 188 → ⌈93.5⌉+1 = 95 → 48 (floor: 47); 500 → 250 → 126 → 63.
    """
    model = _coco_msc_model(None)
    assert isinstance(model.backbone, MODELS.get('CaffeResNet'))
    with torch.no_grad():
        sizes = [tuple(o.shape[2:]) for o in model.forward_scales(torch.zeros(1, 3, 321, 321))]
        assert sizes == [(41, 41), (31, 31), (21, 21), (41, 41)]
        assert tuple(model.forward_scales(torch.zeros(1, 3, 375, 500))[0].shape[2:]) == (48, 63)
        floor_stem = _coco_msc_model('ResNet')
        floor_sizes = [tuple(o.shape[2:]) for o in floor_stem.forward_scales(
            torch.zeros(1, 3, 321, 321))]
    assert floor_sizes == [(41, 41), (30, 30), (20, 20), (41, 41)]
