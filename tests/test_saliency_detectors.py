"""Saliency detectors: DHSNet, U²-Net (public key layout) and the weight-free RBD."""
import pytest
import torch
from torchvision.models import vgg

from tolerances import assert_close_f32, network_terms
from wsss_mm.registry import MODELS
from wsss_mm.saliency import DHSNet, RobustBackgroundDetector, U2Net

# ----------------------------------------------------------------------------- DHSNet


def test_dhsnet_vgg_part_has_torchvision_layout():
    reference = vgg.make_layers(vgg.cfgs['D'])  # torchvision's VGG-16 `features`
    ours = {k: v.shape for k, v in DHSNet(input_size=32).features.state_dict().items()}
    theirs = {k: v.shape for k, v in reference.state_dict().items()}
    assert ours == theirs  # conv1_1..conv5_3 at the same indices; pool5 holds no weights
    assert len(reference) == 31 and isinstance(reference[30], torch.nn.MaxPool2d)


def test_dhsnet_side_output_sizes_at_paper_resolution():
    with torch.device('meta'):
        model = DHSNet()  # 224 input; meta tensors: shapes only, no compute
        outputs = model.train()(torch.empty(2, 3, 300, 400))
        prediction = model.eval()(torch.empty(2, 3, 300, 400))
    assert [tuple(o.shape) for o in outputs] == [
        (2, 1, 28, 28), (2, 1, 28, 28), (2, 1, 56, 56), (2, 1, 112, 112), (2, 1, 224, 224)]
    assert tuple(prediction.shape) == (2, 1, 300, 400)
    assert model.global_fc.in_features == 512 * 14 * 14 and model.global_fc.out_features == 784


def test_dhsnet_small_forward():
    torch.manual_seed(0)
    model = DHSNet(input_size=32)
    images = torch.randn(2, 3, 40, 48)
    outputs = model.train()(images)
    assert [tuple(o.shape) for o in outputs] == [
        (2, 1, 4, 4), (2, 1, 4, 4), (2, 1, 8, 8), (2, 1, 16, 16), (2, 1, 32, 32)]
    saliency = model.eval()(images)
    assert saliency.shape == (2, 1, 40, 48)
    assert saliency.min() >= 0 and saliency.max() <= 1
    # Eval-mode BN: every image is processed independently of the batch (up to the rounding
    # of another BLAS path for another batch size)
    assert_close_f32(model(images[1:]), saliency[1:], network_terms(model))
    with pytest.raises(ValueError, match='multiple of 16'):
        DHSNet(input_size=40)
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        model(torch.randn(1, 1, 32, 32))


def test_dhsnet_loads_torchvision_vgg16_weights(tmp_path):
    torch.manual_seed(0)
    features = vgg.make_layers(vgg.cfgs['D'])
    checkpoint = {f'features.{k}': v for k, v in features.state_dict().items()}
    checkpoint['classifier.6.weight'] = torch.zeros(20, 8)  # the unused classifier
    path = tmp_path / 'vgg16.pth'
    torch.save(checkpoint, path)
    model = MODELS.build(dict(type='DHSNet', input_size=32,
                              init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    for key, value in model.features.state_dict().items():
        assert torch.equal(value, features.state_dict()[key]), key


def test_dhsnet_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = DHSNet(input_size=32)
    model.train()(torch.randn(4, 3, 32, 32))  # move the BN running statistics
    model.eval()
    images = torch.randn(2, 3, 32, 32)
    expected = model(images)
    # A raw state dict file and a runner checkpoint of the SaliencyDetector wrapper.
    raw, wrapped = tmp_path / 'dhsnet.pth', tmp_path / 'iter_10.pth'
    torch.save(model.state_dict(), raw)
    torch.save({'meta': {'iter': 10},
                'state_dict': {f'detector.{k}': v for k, v in model.state_dict().items()}},
               wrapped)
    for init_cfg in (dict(type='Pretrained', checkpoint=str(raw)),
                     dict(type='Pretrained', checkpoint=str(wrapped), prefix='detector.')):
        restored = DHSNet(input_size=32, init_cfg=init_cfg)
        restored.init_weights()
        torch.testing.assert_close(restored.eval()(images), expected)
    strict = DHSNet(input_size=32)
    strict.load_state_dict(torch.load(raw, weights_only=True), strict=True)
    torch.testing.assert_close(strict.eval()(images), expected)

# ----------------------------------------------------------------------------- U²-Net

# Key -> shape pairs read off the public xuebinqin/U-2-Net model definition (U2NET).
U2NET_PUBLIC_SHAPES = {
    'stage1.rebnconvin.conv_s1.weight': (64, 3, 3, 3),
    'stage1.rebnconvin.bn_s1.running_mean': (64, ),
    'stage1.rebnconv1.conv_s1.weight': (32, 64, 3, 3),
    'stage1.rebnconv7.conv_s1.weight': (32, 32, 3, 3),
    'stage1.rebnconv6d.conv_s1.weight': (32, 64, 3, 3),
    'stage1.rebnconv1d.conv_s1.weight': (64, 64, 3, 3),
    'stage1.rebnconv1d.bn_s1.num_batches_tracked': (),
    'stage2.rebnconvin.conv_s1.weight': (128, 64, 3, 3),
    'stage2.rebnconv5d.bn_s1.weight': (32, ),
    'stage3.rebnconv5.conv_s1.weight': (64, 64, 3, 3),
    'stage4.rebnconv1d.conv_s1.weight': (512, 256, 3, 3),
    'stage5.rebnconv4.conv_s1.weight': (256, 256, 3, 3),
    'stage6.rebnconv3d.conv_s1.bias': (256, ),
    'stage5d.rebnconvin.conv_s1.weight': (512, 1024, 3, 3),
    'stage4d.rebnconvin.conv_s1.weight': (256, 1024, 3, 3),
    'stage3d.rebnconv4d.conv_s1.weight': (64, 128, 3, 3),
    'stage2d.rebnconv1d.bn_s1.running_var': (64, ),
    'stage1d.rebnconvin.conv_s1.weight': (64, 128, 3, 3),
    'stage1d.rebnconv1.conv_s1.weight': (16, 64, 3, 3),
    'side1.weight': (1, 64, 3, 3),
    'side3.weight': (1, 128, 3, 3),
    'side6.weight': (1, 512, 3, 3),
    'side6.bias': (1, ),
    'outconv.weight': (1, 6, 1, 1),
    'outconv.bias': (1, ),
}
# Same for U2NETP.
U2NETP_PUBLIC_SHAPES = {
    'stage1.rebnconvin.conv_s1.weight': (64, 3, 3, 3),
    'stage1.rebnconv1.conv_s1.weight': (16, 64, 3, 3),
    'stage2.rebnconvin.conv_s1.weight': (64, 64, 3, 3),
    'stage6.rebnconv4.conv_s1.weight': (16, 16, 3, 3),
    'stage5d.rebnconvin.conv_s1.weight': (64, 128, 3, 3),
    'stage1d.rebnconv1d.conv_s1.weight': (64, 32, 3, 3),
    'side3.weight': (1, 64, 3, 3),
    'outconv.weight': (1, 6, 1, 1),
}
# Conv-BN-ReLU units: RSU-L has 2L (input conv, L encoder, L-1 decoder), RSU-4F 8;
# encoder 7,6,5,4,4F,4F and decoder 4F,4,5,6,7 -> 60 + 52 = 112 units of 7 entries,
# plus 6 side convolutions and the fusion (weight + bias each).
PUBLIC_NUM_KEYS = 112 * 7 + 6 * 2 + 2


@pytest.mark.parametrize('variant, shapes, num_params', [
    ('u2net', U2NET_PUBLIC_SHAPES, 44.0e6), ('u2netp', U2NETP_PUBLIC_SHAPES, 1.13e6)])
def test_u2net_state_dict_matches_public_layout(variant, shapes, num_params):
    model = U2Net(variant)
    state = model.state_dict()
    assert len(state) == PUBLIC_NUM_KEYS
    for key, shape in shapes.items():
        assert tuple(state[key].shape) == shape, key
    assert 'stage5.rebnconv5.conv_s1.weight' not in state  # RSU-4F has 4 levels
    assert 'stage1.rebnconv7d.conv_s1.weight' not in state
    # Public sizes: u2net.pth 176.3 MB, u2netp.pth 4.7 MB of float32.
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(num_params, rel=0.01)
    # Dilations of the public blocks (not visible in the keys).
    assert model.stage1.rebnconv7.conv_s1.dilation == (2, 2)
    assert model.stage1.rebnconv6.conv_s1.dilation == (1, 1)
    assert [getattr(model.stage5, f'rebnconv{i}').conv_s1.dilation[0] for i in (1, 2, 3, 4)] \
        == [1, 2, 4, 8]
    assert model.stage5d.rebnconv3d.conv_s1.dilation == (4, 4)


def test_u2netp_forward_and_strict_round_trip(tmp_path):
    torch.manual_seed(0)
    model = U2Net('u2netp', input_size=None)
    images = torch.randn(2, 3, 35, 45)  # odd sizes: ceil-mode pooling, resize-like upsampling
    outputs = model.train()(images)
    assert len(outputs) == 7 and all(o.shape == (2, 1, 35, 45) for o in outputs)
    model.eval()
    saliency = model(images)
    assert saliency.shape == (2, 1, 35, 45) and 0 <= saliency.min() and saliency.max() <= 1
    # A public-style file (a bare state dict) loads strictly and through init_cfg.
    path = tmp_path / 'u2netp.pth'
    torch.save(model.state_dict(), path)
    fresh = U2Net('u2netp', input_size=None)
    fresh.load_state_dict(torch.load(path, weights_only=True), strict=True)
    torch.testing.assert_close(fresh.eval()(images), saliency)
    built = MODELS.build(dict(type='U2Net', variant='u2netp',
                              init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    built.init_weights()
    assert built.input_size == 320  # the public models' resolution
    for key, value in built.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    with pytest.raises(ValueError, match='variant'):
        U2Net('u2netx')

# ----------------------------------------------------------------------------- RBD


def normalize(rgb):
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    return (rgb - mean) / std


def synthetic_scene(seed, height=60, width=80):
    """A red object on a noisy, gradient grey-green background; returns (image, mask)."""
    generator = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, height)[:, None].expand(height, width)
    background = torch.stack([90 + 30 * ys, 120 + 30 * ys, 90 + 20 * ys])
    image = background + 6 * torch.randn(3, height, width, generator=generator)
    mask = torch.zeros(height, width, dtype=torch.bool)
    top, left = 15 + seed % 7, 20 + seed % 11
    mask[top:top + 25, left:left + 30] = True
    image[:, mask] = torch.tensor([200.0, 40.0, 40.0])[:, None]
    return normalize(image.clamp(0, 255)[None]), mask


def test_rbd_finds_a_central_object():
    detector = RobustBackgroundDetector(num_superpixels=150)
    images, masks = zip(*(synthetic_scene(seed) for seed in range(2)))
    batch = torch.cat(images)
    saliency = detector(batch)
    assert saliency.shape == (2, 1, 60, 80) and saliency.dtype == torch.float32
    assert saliency.min() >= 0 and saliency.max() <= 1
    for sal, mask in zip(saliency[:, 0], masks):
        assert sal[mask].mean() > 0.8 and sal[~mask].mean() < 0.1
        assert (sal - mask.float()).abs().mean() < 0.1  # MAE
    torch.testing.assert_close(detector(batch[1:]), saliency[1:])


def test_rbd_uniform_image_is_not_salient():
    saliency = MODELS.build(dict(type='RobustBackgroundDetector'))(torch.zeros(1, 3, 20, 20))
    assert torch.equal(saliency, torch.zeros(1, 1, 20, 20))
