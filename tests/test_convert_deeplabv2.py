"""tools/convert_deeplabv2_coco_init.py on synthetic deeplab-pytorch state dicts."""
import importlib.util
import os.path as osp
import sys

import pytest
import torch

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
        state[f'{prefix}{name}.conv.weight'] = torch.randn(out_ch, in_ch, k, k, generator=generator)
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
                NUM_CLASSES, 2048, 3, 3, generator=generator)
            state[f'{prefix}aspp.c{i}.bias'] = torch.randn(NUM_CLASSES, generator=generator)
    if with_coco_fc:
        state['fc.weight'] = torch.randn(91, 2048, 1, 1, generator=generator)
        state['fc.bias'] = torch.randn(91, generator=generator)
    return state


@pytest.fixture(scope='module')
def model(default_scope):
    return MODELS.build(dict(
        type='MSCDeepLabV2',
        backbone=dict(type='ResNet', depth=50, out_indices=(3, ), strides=(1, 2, 1, 1),
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
