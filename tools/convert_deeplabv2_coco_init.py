"""Convert deeplab-pytorch's DeepLab ResNet-101 weights to MSCDeepLabV2 keys.

The paper initializes DeepLab-v2 from the MS-COCO-pretrained caffe model of the
DeepLab authors. kazuto1011/deeplab-pytorch converts it (``convert.py -d coco``)
to ``deeplabv1_resnet101-coco.pth``, and its trained VOC model (``-d voc12``)
to ``deeplabv2_resnet101_msc-vocaug.pth``. Their key layout is::

    [base.]layer1.conv1.conv.weight                    7×7 stem conv
    [base.]layer1.conv1.bn.{weight,bias,running_mean,running_var,num_batches_tracked}
    [base.]layer{2..5}.block{j}.{reduce,conv3x3,increase,shortcut}.{conv.weight,bn.*}
    fc.{weight,bias}                                   COCO 91-class 1×1 classifier
    base.aspp.c{i}.{weight,bias}                       ASPP branches (VOC model)

mapped here to mmseg ``ResNet`` names under ``backbone.`` (``conv1``, ``bn1``,
``layer{1..4}.{j-1}.{conv1,bn1,conv2,bn2,conv3,bn3,downsample.0,downsample.1}``)
and ``decode_head.convs.{i}``. The COCO classifier ``fc`` has no counterpart and
is dropped (the ASPP head then starts from its N(0, 0.01) init, as in the paper).

The caffe ResNet strides in the first 1×1 conv of a block (``reduce``): use
these weights with ``backbone=dict(type='CaffeResNet', ...)`` (caffe style and the
ceil-mode stem max-pool of the MSRA ResNet). The caffe model also
expects BGR inputs with the mean (104.008, 116.669, 122.675) subtracted and no
std scaling: ``SegDataPreProcessor(mean=[104.008, 116.669, 122.675],
std=[1, 1, 1], bgr_to_rgb=False)``.

Usage::

    python tools/convert_deeplabv2_coco_init.py deeplabv1_resnet101-coco.pth \
        checkpoints/deeplabv2_r101_coco_init.pth
"""
import argparse
import io
import re
from collections import OrderedDict
from typing import Mapping

import torch
from torch import Tensor

from wsss_mm.utils.io import atomic_write_bytes

# deeplab-pytorch stage k+1 holds mmseg ResNet stage k; branch → mmseg module names.
_BRANCHES = {
    'reduce': ('conv1', 'bn1'),
    'conv3x3': ('conv2', 'bn2'),
    'increase': ('conv3', 'bn3'),
    'shortcut': ('downsample.0', 'downsample.1'),
}
_STEM = re.compile(r'layer1\.conv1\.(conv|bn)\.(\w+)$')
_BLOCK = re.compile(
    r'layer([2-5])\.block(\d+)\.(reduce|conv3x3|increase|shortcut)\.(conv|bn)\.(\w+)$')
_ASPP = re.compile(r'aspp\.c(\d+)\.(weight|bias)$')
_DROPPED = re.compile(r'fc\.(weight|bias)$')
_PREFIXES = ('module.', 'base.')


def convert_key(key: str) -> str:
    """MSCDeepLabV2 name of a deeplab-pytorch key; '' for keys that are dropped."""
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
    match = _STEM.match(key)
    if match:
        module, param = match.groups()
        return f"backbone.{'conv1' if module == 'conv' else 'bn1'}.{param}"
    match = _BLOCK.match(key)
    if match:
        stage, block, branch, module, param = match.groups()
        name = _BRANCHES[branch][0 if module == 'conv' else 1]
        return f'backbone.layer{int(stage) - 1}.{int(block) - 1}.{name}.{param}'
    match = _ASPP.match(key)
    if match:
        branch, param = match.groups()
        return f'decode_head.convs.{branch}.{param}'
    if _DROPPED.match(key):
        return ''
    raise KeyError(f'unexpected key in a deeplab-pytorch ResNet checkpoint: {key}')


def convert_state_dict(source: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Rename every tensor of ``source``; drops the COCO classifier ``fc``."""
    converted = OrderedDict()
    for key, value in source.items():
        new_key = convert_key(key)
        if new_key:
            converted[new_key] = value
    return converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='deeplab-pytorch .pth (state dict)')
    parser.add_argument('dst', help='output checkpoint for load_from / init_cfg')
    args = parser.parse_args()
    source = torch.load(args.src, map_location='cpu', weights_only=True)
    if 'state_dict' in source:
        source = source['state_dict']
    converted = convert_state_dict(source)
    buffer = io.BytesIO()
    torch.save(dict(state_dict=converted, meta=dict(converted_from=args.src)), buffer)
    atomic_write_bytes(args.dst, buffer.getvalue())
    print(f'wrote {len(converted)} tensors ({len(source) - len(converted)} dropped) '
          f'to {args.dst}')


if __name__ == '__main__':
    main()
