"""CAM generators against independent references.

Grad-CAM and Grad-CAM++ are compared with the pip package ``grad-cam``
(pytorch_grad_cam), which runs one forward and one full backward per class;
CAM with a hand computation from the classifier's own layers.
"""
import pytest
import torch
import torch.nn.functional as F
import torchvision
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from wsss_mm.cam import CAMGenerator, GradCAMGenerator, GradCAMPlusPlusGenerator
from wsss_mm.registry import CAM_GENERATORS

NUM_CLASSES = 20


def multi_hot(classes_per_image):
    labels = torch.zeros(len(classes_per_image), NUM_CLASSES)
    for i, classes in enumerate(classes_per_image):
        labels[i, classes] = 1
    return labels


def min_max(maps):
    """pytorch-grad-cam's per-map scaling (x - min) / (max - min); constant maps -> 0."""
    low = maps.amin(dim=(-2, -1), keepdim=True)
    span = maps.amax(dim=(-2, -1), keepdim=True) - low
    return torch.where(span > 0, (maps - low) / torch.where(span > 0, span, 1), 0)


@pytest.fixture(scope='module')
def vgg():
    torch.manual_seed(0)
    model = torchvision.models.vgg16(weights=None)
    model.classifier[6] = nn.Linear(4096, NUM_CLASSES)
    return model.eval()


@pytest.fixture(scope='module')
def resnet():
    torch.manual_seed(1)
    return torchvision.models.resnet18(weights=None, num_classes=NUM_CLASSES).eval()


@pytest.fixture(scope='module')
def images():
    return torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(2))


def small_net():
    """A GAP + linear net with batch norm and an in-place ReLU after the target conv."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, NUM_CLASSES))


def resnet_layer4(model, x):
    """ResNet-18's layer4 output, by calling its stages in order (no hooks)."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


@pytest.mark.parametrize('generator_cls, reference_cls',
                         [(GradCAMGenerator, GradCAM), (GradCAMPlusPlusGenerator, GradCAMPlusPlus)])
def test_matches_pytorch_grad_cam(vgg, images, generator_cls, reference_cls):
    labels = multi_hot([[1, 5, 7], [5, 12]])
    generator = generator_cls(vgg, 'features.29')
    raw = generator.raw_maps(images, labels)
    # pytorch-grad-cam: ReLU map -> min-max -> cv2 resize -> min-max, one class per pass.
    # Min-max is invariant to the affine first scaling, so min-max of our raw
    # upsampled map must equal its output.
    non_constant = 0
    with reference_cls(model=vgg, target_layers=[vgg.features[29]]) as reference:
        for c in labels.any(dim=0).nonzero().flatten().tolist():
            targets = [ClassifierOutputTarget(c)] * len(images)
            expected = torch.from_numpy(reference(images, targets))
            for b in labels[:, c].nonzero().flatten().tolist():
                torch.testing.assert_close(min_max(raw[b, c]), expected[b], rtol=1e-5, atol=1e-5)
                non_constant += int(expected[b].max() > 0.5)
    assert non_constant >= 4  # the comparison is not between all-zero maps
    vgg.zero_grad(set_to_none=True)


def test_output_normalized_per_class(vgg, images):
    labels = multi_hot([[1, 5, 7], [5, 12]])
    generator = GradCAMGenerator(vgg, 'features.29')
    raw = generator.raw_maps(images, labels)
    maps = generator(images, labels)
    assert maps.shape == (2, NUM_CLASSES, 64, 80)
    assert not maps.isnan().any()
    peaks = raw.amax(dim=(-2, -1))
    for b in range(2):
        for c in range(NUM_CLASSES):
            if peaks[b, c] > 0:
                torch.testing.assert_close(maps[b, c], raw[b, c] / peaks[b, c])
                assert maps[b, c].max() == 1
            else:  # absent classes, and present ones whose ReLU map vanishes
                assert (maps[b, c] == 0).all()
    assert (raw >= 0).all()
    absent = labels == 0
    assert (maps[absent] == 0).all()
    assert (peaks[~absent] > 0).sum() >= 3


def test_cam_matches_hand_computation(resnet, images):
    labels = multi_hot([[0, 3], [3, 19]])
    generator = CAMGenerator(resnet, 'layer4', fc_layer='fc')
    maps = generator(images, labels)
    with torch.no_grad():
        features = resnet_layer4(resnet, images)  # [2, 512, 2, 3]
        # scores really are fc(GAP(layer4)): the precondition of CAM
        torch.testing.assert_close(resnet.fc(features.mean(dim=(2, 3))), resnet(images))
    for b, c in labels.nonzero().tolist():
        cam = (resnet.fc.weight[c][:, None, None] * features[b]).sum(0).relu()
        cam = F.interpolate(cam[None, None], size=(64, 80), mode='bilinear',
                            align_corners=False)[0, 0]
        assert cam.max() > 0
        torch.testing.assert_close(maps[b, c], cam / cam.max(), rtol=1e-5, atol=1e-6)
    assert (maps[labels == 0] == 0).all()


def test_multi_scale_flip_aggregation(resnet, images):
    labels = multi_hot([[2], [4, 9]])
    scales = (1.0, 0.75)
    maps = CAMGenerator(resnet, 'layer4', 'fc', scales=scales, flip=True)(images, labels)
    expected = torch.zeros_like(maps)
    with torch.no_grad():
        for scale in scales:
            size = (round(64 * scale), round(80 * scale))
            scaled = F.interpolate(images, size=size, mode='bilinear', align_corners=False)
            for flip in (False, True):
                inputs = scaled.flip(-1) if flip else scaled
                features = resnet_layer4(resnet, inputs)
                cams = torch.einsum('ck,bkhw->bchw', resnet.fc.weight, features).relu()
                cams = F.interpolate(cams, size=(64, 80), mode='bilinear', align_corners=False)
                expected += cams.flip(-1) if flip else cams
    expected *= labels[:, :, None, None]
    expected /= expected.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    torch.testing.assert_close(maps, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('generator_cls', [GradCAMGenerator, GradCAMPlusPlusGenerator])
def test_batched_equals_per_image(vgg, images, generator_cls):
    labels = multi_hot([[1, 5, 7], [12]])
    generator = generator_cls(vgg, 'features.29')
    batched = generator(images, labels)
    for b in range(2):
        single = generator(images[b:b + 1], labels[b:b + 1])
        torch.testing.assert_close(batched[b:b + 1], single, rtol=1e-5, atol=1e-6)


def test_one_forward_and_one_backward_per_scale(monkeypatch, vgg, images):
    calls = dict(forward=0, grad=0)
    grad = torch.autograd.grad

    def counting_grad(*args, **kwargs):
        calls['grad'] += 1
        return grad(*args, **kwargs)

    def count_forward(module, args, output):
        calls['forward'] += 1

    monkeypatch.setattr(torch.autograd, 'grad', counting_grad)
    handle = vgg.register_forward_hook(count_forward)
    try:
        labels = multi_hot([[1, 5, 7, 8], [5]])
        GradCAMGenerator(vgg, 'features.29')(images, labels)
        assert calls == dict(forward=1, grad=1)
        GradCAMGenerator(vgg, 'features.29', scales=(1.0, 0.5), flip=True)(images, labels)
        assert calls == dict(forward=3, grad=3)
    finally:
        handle.remove()


def test_model_state_restored():
    torch.manual_seed(3)
    model = small_net()
    model.train()
    model[1].eval()  # mixed modes must come back as they were
    model[0].bias.requires_grad_(False)
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    x = torch.randn(2, 3, 32, 40)
    labels = multi_hot([[0, 1], [2]])
    for generator in (GradCAMGenerator(model, '3'), GradCAMPlusPlusGenerator(model, '3'),
                      CAMGenerator(model, '3', '7')):
        maps = generator(x, labels)
        assert maps.shape == (2, NUM_CLASSES, 32, 40)
        assert [m.training for m in model.modules()] == modes
        assert [p.requires_grad for p in model.parameters()] == flags
        assert all(p.grad is None for p in model.parameters())
        for m in model.modules():
            assert not m._forward_hooks and not m._forward_pre_hooks
            assert not m._backward_hooks
    # the in-place ReLU after the target conv must not overwrite A: CAM by hand
    model.eval()
    with torch.no_grad():
        features = model[:4](x)
    cam = (model[7].weight[2][:, None, None] * features[1]).sum(0).relu()
    cam = F.interpolate(cam[None, None], size=(32, 40), mode='bilinear', align_corners=False)[0, 0]
    model.train()
    model[1].eval()
    maps = CAMGenerator(model, '3', '7')(x, labels)
    torch.testing.assert_close(maps[1, 2], cam / cam.max())


def test_no_labels_gives_zeros(vgg, images):
    maps = GradCAMGenerator(vgg, 'features.29')(images, torch.zeros(2, NUM_CLASSES))
    assert maps.shape == (2, NUM_CLASSES, 64, 80) and (maps == 0).all()


def test_invalid_arguments(vgg, resnet):
    with pytest.raises(AttributeError):
        GradCAMGenerator(vgg, 'features.99')
    with pytest.raises(ValueError):
        GradCAMGenerator(vgg, 'features.29', scales=())
    with pytest.raises(TypeError):
        CAMGenerator(resnet, 'layer4', fc_layer='layer4')


@pytest.mark.parametrize('cfg, cls', [
    (dict(type='GradCAMGenerator', target_layer='layer4'), GradCAMGenerator),
    (dict(type='GradCAMPlusPlusGenerator', target_layer='layer4', flip=True),
     GradCAMPlusPlusGenerator),
    (dict(type='CAMGenerator', target_layer='layer4', fc_layer='fc', scales=(1.0, 0.5)),
     CAMGenerator),
])
def test_registry_build(resnet, cfg, cls):
    generator = CAM_GENERATORS.build(cfg, default_args=dict(model=resnet))
    assert type(generator) is cls
    assert generator.model is resnet and generator.layer is resnet.layer4
    assert generator.flip == cfg.get('flip', False)
    assert generator.scales == cfg.get('scales', (1.0, ))
