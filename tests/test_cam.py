"""CAM generators against independent references.

Every method is compared with the pip package ``grad-cam`` (pytorch_grad_cam),
which runs one forward (and one full backward) per class, on a small VGG-like
network in float64 with several classes per image and a batch of two images;
CAM, Score-CAM, Ablation-CAM and LayerCAM's fusion also with hand computations.

Tolerances. In float64 our maps carry errors of about eps64 * sqrt(reduction
length ~5e3) * depth ~10 * cancellation in sum_k w_k A^k (< 1e3 on these
networks) < 1e-9 of the map's scale: ``EXACT_ATOL`` for comparisons with
float64 hand computations and between our own code paths. pytorch-grad-cam
returns float32 maps in [0, 1]: the cast, cv2's float32 resize, its second
min-max in float32 and the 1e-7 it adds to each max cost a few eps32 each, so
``REF_ATOL = 32 * eps32``; Score-CAM and Ablation-CAM also round the class
scores to float32 inside the reference, which adds a term derived per test.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
import pytorch_grad_cam
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from wsss_mm.cam import (AblationCAMGenerator, CAMGenerator, EigenCAMGenerator,
                         EigenGradCAMGenerator, GradCAMElementWiseGenerator, GradCAMGenerator,
                         GradCAMPlusPlusGenerator, HiResCAMGenerator, LayerCAMGenerator,
                         ScoreCAMGenerator, XGradCAMGenerator, min_max_maps)
from wsss_mm.registry import CAM_GENERATORS

NUM_CLASSES = 20
EPS32 = torch.finfo(torch.float32).eps
EXACT_ATOL = 1e-9
REF_ATOL = 32 * EPS32
SIZE = (32, 40)
TARGET = '7'  # ReLU after the third conv of vgg_like(): 16 channels at 8x10
LABELS = [[1, 5, 7], [5, 12]]

# our class -> pytorch-grad-cam's
REFERENCES = {
    GradCAMGenerator: pytorch_grad_cam.GradCAM,
    GradCAMPlusPlusGenerator: pytorch_grad_cam.GradCAMPlusPlus,
    XGradCAMGenerator: pytorch_grad_cam.XGradCAM,
    HiResCAMGenerator: pytorch_grad_cam.HiResCAM,
    GradCAMElementWiseGenerator: pytorch_grad_cam.GradCAMElementWise,
    LayerCAMGenerator: pytorch_grad_cam.LayerCAM,
    ScoreCAMGenerator: pytorch_grad_cam.ScoreCAM,
    AblationCAMGenerator: pytorch_grad_cam.AblationCAM,
    EigenCAMGenerator: pytorch_grad_cam.EigenCAM,
    EigenGradCAMGenerator: pytorch_grad_cam.EigenGradCAM,
}


def multi_hot(classes_per_image):
    labels = torch.zeros(len(classes_per_image), NUM_CLASSES, dtype=torch.float64)
    for i, classes in enumerate(classes_per_image):
        labels[i, classes] = 1
    return labels


def vgg_like():
    """VGG-style convs and max-pools, then max-pool (to 4x5) + two fc layers: non-linear in A.

    Channel 3 of the target layer is dead (bias -100 before the ReLU), so the
    constant-channel paths (Score-CAM's zero input, XGrad-CAM's zero sum) run.
    """
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveMaxPool2d((4, 5)), nn.Flatten(), nn.Linear(16 * 4 * 5, 32), nn.ReLU(),
        nn.Linear(32, NUM_CLASSES))
    with torch.no_grad():
        net[6].bias[3] = -100
    return net.double().eval()


@pytest.fixture(scope='module')
def net():
    return vgg_like()


@pytest.fixture(scope='module')
def images():
    return torch.randn(2, 3, *SIZE, generator=torch.Generator().manual_seed(2),
                       dtype=torch.float64)


@pytest.fixture(scope='module')
def resnet():
    torch.manual_seed(1)
    return torchvision.models.resnet18(weights=None, num_classes=NUM_CLASSES).double().eval()


def small_net():
    """A GAP + linear net with batch norm and an in-place ReLU after the target conv."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, NUM_CLASSES)).double()


def resnet_layer4(model, x):
    """ResNet-18's layer4 output, by calling its stages in order (no hooks)."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def reference_maps(reference_cls, net, layers, images, labels):
    """pytorch-grad-cam's maps {(b, c): [H, W]} of every present pair, one call per class."""
    out = {}
    with reference_cls(model=net, target_layers=[net.get_submodule(n) for n in layers]) as ref:
        for c in labels.any(dim=0).nonzero().flatten().tolist():
            maps = torch.from_numpy(ref(images, [ClassifierOutputTarget(c)] * len(images)))
            for b in labels[:, c].nonzero().flatten().tolist():
                out[b, c] = maps[b].double()
    net.zero_grad(set_to_none=True)
    return out


@pytest.fixture
def svd_sign_as_ours(monkeypatch):
    """numpy's SVD with the sign convention of principal_projection (sum of v >= 0).

    The sign of a singular vector is arbitrary and depends on the LAPACK build;
    everything else in pytorch-grad-cam's get_2d_projection stays as it is.
    """
    svd = np.linalg.svd

    def signed_svd(a, *args, **kwargs):
        u, s, vt = svd(a, *args, **kwargs)
        if vt[0].sum() < 0:
            u, vt = u.copy(), vt.copy()
            u[:, 0] *= -1
            vt[0] *= -1
        return u, s, vt

    monkeypatch.setattr(np.linalg, 'svd', signed_svd)


def score_cam_scores_by_hand(net, images):
    """Class scores of the inputs masked by each min-max scaled channel: [B, K, C]."""
    with torch.no_grad():
        features = net[:8](images)
        scores = torch.zeros(*features.shape[:2], NUM_CLASSES, dtype=torch.float64)
        for b in range(features.shape[0]):
            for k in range(features.shape[1]):
                mask = F.interpolate(features[b, k][None, None], size=SIZE, mode='bilinear',
                                     align_corners=True)[0, 0]
                mask = (mask - mask.min()) / (mask.max() - mask.min() + 1e-8)
                scores[b, k] = net((images[b] * mask)[None])[0]
    return features, scores


def ablation_weights_by_hand(net, images):
    """(y - y_k) / y for every image, channel k and class, ablating one channel at a time."""
    head = net[8:]
    with torch.no_grad():
        features = net[:8](images)
        weights = torch.zeros(*features.shape[:2], NUM_CLASSES, dtype=torch.float64)
        y = head(features)
        for k in range(features.shape[1]):
            ablated = features.clone()
            ablated[:, k] = 0
            weights[:, k] = (y - head(ablated)) / y
    return features, weights


def reference_float32_atol(generator_cls, net, images, raw_map, b):
    """Extra atol for one min-max scaled map of Score-CAM / Ablation-CAM, whose reference
    rounds the class scores to float32 (0 for the other methods).

    Score-CAM: the softmax of float32-rounded scores s has relative error
    <= 4 eps32 (1 + max|s|) in every weight; weights and A are >= 0, so the
    map has that relative error, i.e. that times max / (max - min) after min-max.
    Ablation-CAM: w_k = (y - y_k) / y from float32 y, y_k has absolute error
    <= 4 eps32 (1 + max|w|); the map's error is that times sum_k A^k.
    """
    span = (raw_map.max() - raw_map.min()).item()
    if span == 0 or generator_cls not in (ScoreCAMGenerator, AblationCAMGenerator):
        return 0.0
    if generator_cls is ScoreCAMGenerator:
        _, scores = score_cam_scores_by_hand(net, images)
        return 4 * EPS32 * (1 + scores.abs().max().item()) * raw_map.max().item() / span
    features, weights = ablation_weights_by_hand(net, images)
    error = 4 * EPS32 * (1 + weights.abs().max().item())
    return error * features[b].sum(dim=0).max().item() / span


@pytest.mark.parametrize('generator_cls', list(REFERENCES), ids=lambda c: c.__name__)
def test_matches_pytorch_grad_cam(net, images, generator_cls, svd_sign_as_ours):
    labels = multi_hot(LABELS)
    raw = generator_cls(net, TARGET).raw_maps(images, labels)
    # pytorch-grad-cam: ReLU map -> min-max -> cv2 resize -> min-max, one class per pass.
    # Min-max is invariant to the affine first scaling, so min-max of our raw
    # upsampled map must equal its output.
    expected = reference_maps(REFERENCES[generator_cls], net, [TARGET], images, labels)
    non_constant = 0
    for (b, c), ref in expected.items():
        atol = REF_ATOL + reference_float32_atol(generator_cls, net, images, raw[b, c], b)
        torch.testing.assert_close(min_max_maps(raw[b, c]), ref, rtol=0, atol=atol)
        non_constant += int(ref.max() > 0.5)
    assert non_constant >= 3  # the comparison is not between all-zero maps
    assert (raw[labels == 0] == 0).all()


@pytest.mark.parametrize('generator_cls, kwargs', [(GradCAMGenerator, {}),
                                                   (LayerCAMGenerator, dict(fusion='mean'))])
def test_multi_layer_mean_matches_pytorch_grad_cam(images, generator_cls, kwargs):
    """Several target layers: pytorch-grad-cam min-max scales each layer's map and averages.

    Its per-layer scaling divides by (1e-7 + range), which down-weights a layer whose map
    range is not far above 1e-7 (ours is scale-invariant); the scores are scaled by 1e6 so
    that every map range is >= 0.1 and that term stays below eps32.
    """
    net = vgg_like()
    with torch.no_grad():
        net[-1].weight *= 1e6
        net[-1].bias *= 1e6
    labels = multi_hot(LABELS)
    layers = ['4', TARGET]
    for layer in layers:
        peaks = generator_cls(net, layer).raw_maps(images, labels).amax(dim=(-2, -1))
        assert ((peaks == 0) | (peaks >= 0.1)).all()
    raw = generator_cls(net, layers, **kwargs).raw_maps(images, labels)
    expected = reference_maps(REFERENCES[generator_cls], net, layers, images, labels)
    for (b, c), ref in expected.items():
        torch.testing.assert_close(min_max_maps(raw[b, c]), ref, rtol=0, atol=REF_ATOL)


def test_layercam_paper_fusion_matches_hand_computation(net, images):
    """fusion='max': per layer min-max, tanh(gamma x), upsample, element-wise max (Eq. 9)."""
    labels = multi_hot(LABELS)
    maps = LayerCAMGenerator(net, ['4', TARGET], gamma=2.0).raw_maps(images, labels)
    for b, c in labels.nonzero().tolist():
        shallow = net[:5](images[b:b + 1]).requires_grad_(True)
        deep = net[5:8](shallow)
        deep_leaf = deep.detach().requires_grad_(True)
        score = net[8:](deep_leaf)[0, c]
        g_deep, = torch.autograd.grad(score, deep_leaf)
        # the shallow layer's gradient flows through the deep layer
        g_shallow, = torch.autograd.grad(net[8:](deep)[0, c], shallow)
        fused = []
        for a, g in ((shallow.detach(), g_shallow), (deep_leaf.detach(), g_deep)):
            cam = (g.relu() * a).sum(dim=1).relu()
            span = cam.max() - cam.min()
            cam = (cam - cam.min()) / span if span > 0 else torch.zeros_like(cam)
            cam = torch.tanh(2.0 * cam)
            fused.append(F.interpolate(cam[None], size=SIZE, mode='bilinear',
                                       align_corners=False)[0, 0])
        expected = torch.stack(fused).amax(dim=0)
        torch.testing.assert_close(maps[b, c], expected, rtol=0, atol=EXACT_ATOL)
    assert (maps[labels == 0] == 0).all()


@pytest.mark.parametrize('generator_cls', [ScoreCAMGenerator, AblationCAMGenerator])
def test_perturbation_cams_match_hand_computation(net, images, generator_cls):
    """Score-CAM (softmax over channels of masked-input scores) and Ablation-CAM ((y - y_k) / y)
    with one forward per channel, in float64."""
    labels = multi_hot(LABELS)
    raw = generator_cls(net, TARGET, batch_size=5).raw_maps(images, labels)
    if generator_cls is ScoreCAMGenerator:
        features, scores = score_cam_scores_by_hand(net, images)
        weights = scores.softmax(dim=1)
    else:
        features, weights = ablation_weights_by_hand(net, images)
    for b, c in labels.nonzero().tolist():
        cam = torch.einsum('k,khw->hw', weights[b, :, c], features[b]).relu()
        cam = F.interpolate(cam[None, None], size=SIZE, mode='bilinear', align_corners=False)[0, 0]
        torch.testing.assert_close(raw[b, c], cam, rtol=0, atol=EXACT_ATOL * cam.abs().max())


@pytest.mark.parametrize('generator_cls', [ScoreCAMGenerator, AblationCAMGenerator])
def test_batch_size_does_not_change_maps(net, images, generator_cls):
    labels = multi_hot(LABELS)
    one = generator_cls(net, TARGET, batch_size=1)(images, labels)
    many = generator_cls(net, TARGET, batch_size=64)(images, labels)
    torch.testing.assert_close(one, many, rtol=0, atol=EXACT_ATOL)


def test_eigen_cam_is_class_agnostic(net, images):
    labels = multi_hot(LABELS)
    maps = EigenCAMGenerator(net, TARGET)(images, labels)
    torch.testing.assert_close(maps[0, 1], maps[0, 7], rtol=0, atol=0)
    assert maps[0, 1].max() == 1
    eigengrad = EigenGradCAMGenerator(net, TARGET)(images, labels)
    assert not torch.allclose(eigengrad[0, 1], eigengrad[0, 7], atol=1e-2)


def test_output_normalized_per_class(net, images):
    labels = multi_hot(LABELS)
    generator = GradCAMGenerator(net, TARGET)
    raw = generator.raw_maps(images, labels)
    maps = generator(images, labels)
    assert maps.shape == (2, NUM_CLASSES, *SIZE)
    assert not maps.isnan().any()
    peaks = raw.amax(dim=(-2, -1))
    for b in range(2):
        for c in range(NUM_CLASSES):
            if peaks[b, c] > 0:
                torch.testing.assert_close(maps[b, c], raw[b, c] / peaks[b, c], rtol=0,
                                           atol=EXACT_ATOL)
                assert maps[b, c].max() == 1
            else:  # absent classes, and present ones whose ReLU map vanishes
                assert (maps[b, c] == 0).all()
    assert (raw >= 0).all()
    absent = labels == 0
    assert (maps[absent] == 0).all()
    assert (peaks[~absent] > 0).sum() >= 3


def test_cam_matches_hand_computation(resnet):
    images = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(3),
                         dtype=torch.float64)
    labels = multi_hot([[0, 3], [3, 19]])
    generator = CAMGenerator(resnet, 'layer4', fc_layer='fc')
    maps = generator(images, labels)
    with torch.no_grad():
        features = resnet_layer4(resnet, images)  # [2, 512, 2, 3]
        # scores really are fc(GAP(layer4)): the precondition of CAM
        torch.testing.assert_close(resnet.fc(features.mean(dim=(2, 3))), resnet(images),
                                   rtol=0, atol=EXACT_ATOL)
    for b, c in labels.nonzero().tolist():
        cam = (resnet.fc.weight[c][:, None, None] * features[b]).sum(0).relu()
        cam = F.interpolate(cam[None, None], size=(64, 80), mode='bilinear',
                            align_corners=False)[0, 0]
        assert cam.max() > 0
        torch.testing.assert_close(maps[b, c], cam / cam.max(), rtol=0, atol=EXACT_ATOL)
    assert (maps[labels == 0] == 0).all()


def test_multi_scale_flip_aggregation(resnet):
    images = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(4),
                         dtype=torch.float64)
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
    expected /= expected.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-300)
    torch.testing.assert_close(maps, expected, rtol=0, atol=EXACT_ATOL)


@pytest.mark.parametrize('generator_cls', [CAMGenerator, *REFERENCES], ids=lambda c: c.__name__)
def test_batched_equals_per_image(generator_cls):
    """All pairs of a batch in one forward / backward give each image's own maps."""
    torch.manual_seed(5)
    model = small_net().eval() if generator_cls is CAMGenerator else vgg_like()
    kwargs = dict(fc_layer='7') if generator_cls is CAMGenerator else {}
    layer = '3' if generator_cls is CAMGenerator else TARGET
    images = torch.randn(3, 3, *SIZE, generator=torch.Generator().manual_seed(6),
                         dtype=torch.float64)
    labels = multi_hot([[1, 5, 7], [12], [0, 5]])
    generator = generator_cls(model, layer, flip=True, **kwargs)
    batched = generator(images, labels)
    for b in range(3):
        single = generator(images[b:b + 1], labels[b:b + 1])
        torch.testing.assert_close(batched[b:b + 1], single, rtol=0, atol=EXACT_ATOL)
    assert (batched.amax(dim=(-2, -1)) == 1).sum() >= 3


def test_one_forward_and_one_backward_per_scale(monkeypatch, net, images):
    calls = dict(forward=0, grad=0)
    grad = torch.autograd.grad

    def counting_grad(*args, **kwargs):
        calls['grad'] += 1
        return grad(*args, **kwargs)

    def count_forward(module, args, output):
        calls['forward'] += 1

    monkeypatch.setattr(torch.autograd, 'grad', counting_grad)
    handle = net.register_forward_hook(count_forward)
    try:
        labels = multi_hot([[1, 5, 7, 8], [5]])
        GradCAMGenerator(net, TARGET)(images, labels)
        assert calls == dict(forward=1, grad=1)
        GradCAMGenerator(net, TARGET, scales=(1.0, 0.5), flip=True)(images, labels)
        assert calls == dict(forward=3, grad=3)
        LayerCAMGenerator(net, ['1', '4', TARGET])(images, labels)  # all layers, one backward
        assert calls == dict(forward=4, grad=4)
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
    x = torch.randn(2, 3, 32, 40, dtype=torch.float64)
    labels = multi_hot([[0, 1], [2]])
    generators = [CAMGenerator(model, '3', '7')]
    generators += [cls(model, '3') for cls in REFERENCES]
    generators.append(LayerCAMGenerator(model, ['0', '3']))
    for generator in generators:
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
    torch.testing.assert_close(maps[1, 2], cam / cam.max(), rtol=0, atol=EXACT_ATOL)


def test_no_labels_gives_zeros(net, images):
    for cls in REFERENCES:
        maps = cls(net, TARGET)(images, torch.zeros(2, NUM_CLASSES, dtype=torch.float64))
        assert maps.shape == (2, NUM_CLASSES, *SIZE) and (maps == 0).all()


def test_invalid_arguments(net, resnet):
    with pytest.raises(AttributeError):
        GradCAMGenerator(net, '99')
    with pytest.raises(ValueError, match='scales'):
        GradCAMGenerator(net, TARGET, scales=())
    with pytest.raises(ValueError, match='distinct'):
        LayerCAMGenerator(net, [TARGET, TARGET])
    with pytest.raises(ValueError, match='fusion'):
        LayerCAMGenerator(net, TARGET, fusion='sum')
    with pytest.raises(ValueError, match='batch_size'):
        ScoreCAMGenerator(net, TARGET, batch_size=0)
    with pytest.raises(TypeError):
        CAMGenerator(resnet, 'layer4', fc_layer='layer4')


def test_ablation_rejects_a_head_that_ignores_the_replaced_batch():
    """A model whose output batch follows the input, not the target layer, is refused."""

    class Broadcasting(nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4, NUM_CLASSES)

        def forward(self, x):
            a = self.conv(x).relu()
            return self.fc(a.mean(dim=(0, 2, 3), keepdim=False)).expand(x.shape[0], -1)

    model = Broadcasting().double()
    with pytest.raises(RuntimeError, match='single input image'):
        AblationCAMGenerator(model, 'conv')(torch.randn(1, 3, 8, 8, dtype=torch.float64),
                                            multi_hot([[1]]))


@pytest.mark.parametrize('cfg, cls', [
    (dict(type='GradCAMGenerator', target_layer='layer4'), GradCAMGenerator),
    (dict(type='GradCAMPlusPlusGenerator', target_layer='layer4', flip=True),
     GradCAMPlusPlusGenerator),
    (dict(type='CAMGenerator', target_layer='layer4', fc_layer='fc', scales=(1.0, 0.5)),
     CAMGenerator),
    (dict(type='XGradCAMGenerator', target_layer='layer4'), XGradCAMGenerator),
    (dict(type='HiResCAMGenerator', target_layer='layer4'), HiResCAMGenerator),
    (dict(type='GradCAMElementWiseGenerator', target_layer='layer4'),
     GradCAMElementWiseGenerator),
    (dict(type='LayerCAMGenerator', target_layer=['layer3', 'layer4'], fusion='mean'),
     LayerCAMGenerator),
    (dict(type='ScoreCAMGenerator', target_layer='layer4', batch_size=8), ScoreCAMGenerator),
    (dict(type='AblationCAMGenerator', target_layer='layer4', batch_size=8),
     AblationCAMGenerator),
    (dict(type='EigenCAMGenerator', target_layer='layer4'), EigenCAMGenerator),
    (dict(type='EigenGradCAMGenerator', target_layer='layer4'), EigenGradCAMGenerator),
])
def test_registry_build(resnet, cfg, cls):
    generator = CAM_GENERATORS.build(cfg, default_args=dict(model=resnet))
    assert type(generator) is cls
    names = cfg['target_layer']
    names = [names] if isinstance(names, str) else names
    assert generator.model is resnet
    assert generator.layers == [resnet.get_submodule(n) for n in names]
    assert generator.flip == cfg.get('flip', False)
    assert generator.scales == cfg.get('scales', (1.0, ))
    for key in ('fusion', 'batch_size'):
        if key in cfg:
            assert getattr(generator, key) == cfg[key]


def test_layercam_example_config_builds_and_runs():
    """configs/examples' LayerCAM config: three VGG-16 layers of the paper's classifier."""
    from mmengine.config import Config

    from conftest import REPO
    from wsss_mm.registry import MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(
        f'{REPO}/configs/examples/pseudo_vgg16-layercam_dhsnet-erasing_voc12aug.py')
    # the config's VGG-16 backbone (random weights) under a light GAP head instead of fc6-fc8
    classifier = nn.Module()
    classifier.backbone = MODELS.build(cfg.model.backbone)
    classifier.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 20))
    classifier.forward = lambda x: classifier.head(classifier.backbone(x))
    generator = CAM_GENERATORS.build(cfg.cam_generator, default_args=dict(model=classifier))
    assert type(generator) is LayerCAMGenerator and generator.fusion == 'max'
    assert generator.layers == [classifier.backbone.features[i] for i in (15, 22, 29)]
    labels = torch.zeros(1, NUM_CLASSES)
    labels[0, [3, 8]] = 1
    maps = generator(torch.randn(1, 3, 64, 64), labels)
    assert maps.shape == (1, NUM_CLASSES, 64, 64) and (maps[labels == 0] == 0).all()
