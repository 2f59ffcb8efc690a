"""The worked example of docs/extending.md, built from its config through the registries.

FEM (``examples/extending/fem.py``) is checked against a hand computation and the pip
package ``grad-cam`` in float64; the frequency-tuned saliency detector
(``examples/extending/frequency_tuned.py``) against scikit-image's Lab conversion and
scipy filters, alone and inside the erasing generator. Also: ``type=`` and ``_delete_``
swapping as docs/configs.md describes it, ``tools/gen_pseudo.py`` on the example config,
that docs/configs.md lists every config and that docs/extending.md quotes the real code.
"""
import argparse
import copy
import glob
import os.path as osp
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from PIL import Image
from pytorch_grad_cam import FEM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from scipy import ndimage
from skimage.color import rgb2lab

from conftest import REPO, run_tool
from tolerances import assert_close_f32, f32_atol, network_terms
from wsss_mm.registry import CAM_GENERATORS, MODELS, SALIENCY_GENERATORS
from wsss_mm.utils.setup_env import register_all_modules

CFG = osp.join(REPO, 'configs', 'examples', 'pseudo_tiny-r18-fem_ft-erasing_demo.py')
VGG_CFG = osp.join(REPO, 'configs', 'examples', 'pseudo_vgg16-fem_ft-erasing_voc12aug.py')
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
# float64 hand computation vs our float64 maps: rounding far below 1e-9 of the maps' scale;
# pytorch-grad-cam returns float32 maps in [0, 1] (cast, cv2 float32 resize, second min-max,
# 1e-7 added to each max: a few eps32 each), see tests/test_cam.py
EXACT_ATOL = 1e-9
REF_ATOL = 32 * torch.finfo(torch.float32).eps


@pytest.fixture(scope='module')
def cfg():
    """The example config; its custom_imports need the repository root importable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(REPO)
        register_all_modules()
        yield Config.fromfile(CFG)


@pytest.fixture(scope='module')
def classifier(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def multi_hot(classes_per_image, num_classes=20):
    labels = torch.zeros(len(classes_per_image), num_classes)
    for i, classes in enumerate(classes_per_image):
        labels[i, classes] = 1
    return labels


def fem_by_hand(features, size, k_sigma=2.0):
    """FEM of one image's features [K, h, w], channel by channel, upsampled (not normalized)."""
    weights = torch.zeros(features.shape[0], dtype=features.dtype)
    for k, channel in enumerate(features):
        threshold = channel.mean() + k_sigma * channel.std(correction=0)
        weights[k] = (channel > threshold).double().mean()
    cam = (weights[:, None, None] * features).sum(0).relu()
    return F.interpolate(cam[None, None], size=size, mode='bilinear', align_corners=False)[0, 0]


def test_fem_from_config_matches_hand_computation_and_pytorch_grad_cam(cfg, classifier):
    model = copy.deepcopy(classifier).double()
    generator = CAM_GENERATORS.build(cfg.cam_generator, default_args=dict(model=model))
    assert type(generator).__name__ == 'FEMGenerator'
    assert generator.target_layer == 'backbone.layer4'  # inherited from the base config
    images = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(1),
                         dtype=torch.float64)
    labels = multi_hot([[2, 7], [7, 14, 19]])
    raw = generator.raw_maps(images, labels)
    with torch.no_grad():
        features = model.backbone(images)[-1]  # layer4, the target layer
    with FEM(model=model, target_layers=[model.backbone.layer4]) as reference:
        for b, c in labels.nonzero().tolist():
            expected = fem_by_hand(features[b], (64, 80))
            assert expected.max() > expected.min()  # not a comparison of constant maps
            torch.testing.assert_close(raw[b, c], expected, rtol=0,
                                       atol=EXACT_ATOL * expected.max())
            ref = torch.from_numpy(reference(images[b:b + 1], [ClassifierOutputTarget(c)]))[0]
            low, high = raw[b, c].min(), raw[b, c].max()
            torch.testing.assert_close((raw[b, c] - low) / (high - low), ref.double(), rtol=0,
                                       atol=REF_ATOL)
    # class-agnostic: all classes of an image get the same map; absent ones stay zero
    assert torch.equal(raw[1, 7], raw[1, 14]) and torch.equal(raw[1, 7], raw[1, 19])
    assert (raw[labels == 0] == 0).all()


def test_type_swap_cam_methods_agree_on_a_gap_classifier(cfg, classifier):
    """With GAP + linear, the gradient is fc.weight[c] / (hw) everywhere: XGrad-CAM, Grad-CAM
    and CAM give the same normalized maps, so swapping type= must not change them."""
    images = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    labels = multi_hot([[1, 3, 8]])
    outputs = {}
    for options in (dict(type='XGradCAMGenerator'), dict(type='GradCAMGenerator'),
                    dict(type='CAMGenerator', fc_layer='head.fc')):
        swapped = cfg.copy()
        swapped.merge_from_dict({f'cam_generator.{k}': v for k, v in options.items()})
        generator = CAM_GENERATORS.build(swapped.cam_generator,
                                         default_args=dict(model=classifier))
        outputs[type(generator).__name__] = generator(images, labels)
    assert set(outputs) == {'XGradCAMGenerator', 'GradCAMGenerator', 'CAMGenerator'}
    assert (outputs['CAMGenerator'].amax(dim=(-2, -1)) == 1).sum() >= 2  # not all-zero maps
    with torch.no_grad():
        terms = classifier.backbone(images)[-1][0].numel() + network_terms(classifier.head)
    for maps in outputs.values():
        assert_close_f32(maps, outputs['CAMGenerator'], terms)


def frequency_tuned_distance(image):
    """Achanta et al. on one normalized [3, H, W] image with scikit-image / scipy, float64:
    the Lab distance of the blurred image to the mean colour."""
    rgb = np.clip(image.double().numpy() * STD[:, None, None] + MEAN[:, None, None], 0, 255)
    lab = rgb2lab(rgb.transpose(1, 2, 0) / 255)
    binomial = np.array([1, 4, 6, 4, 1]) / 16
    blurred = ndimage.correlate1d(lab, binomial, axis=0, mode='mirror')
    blurred = ndimage.correlate1d(blurred, binomial, axis=1, mode='mirror')
    return np.linalg.norm(blurred - lab.reshape(-1, 3).mean(axis=0), axis=-1)


def frequency_tuned_by_hand(image):
    """The saliency map: the distance divided by its maximum."""
    distance = frequency_tuned_distance(image)
    return distance / distance.max()


def frequency_tuned_atol(image):
    """float32 budget of the normalized map: Lab values up to 100 through an image mean
    (H·W terms) and a 5×5 blur, relative to the largest distance the map is divided by."""
    return f32_atol(100.0 / frequency_tuned_distance(image).max(), terms=image[0].numel() + 25)


def shapes_on_noise(count, seed, size=(48, 64)):
    """Normalized images: a few flat rectangles on smooth coloured noise."""
    rng = np.random.default_rng(seed)
    images = ndimage.gaussian_filter(rng.normal(size=(count, 3, *size)), (0, 0, 3, 3)) * 3
    for image in images:
        for _ in range(3):
            y, x = rng.integers(0, size[0] - 16), rng.integers(0, size[1] - 16)
            h, w = rng.integers(6, 16, size=2)
            image[:, y:y + h, x:x + w] = rng.uniform(-2, 2, size=(3, 1, 1))
    return torch.from_numpy(images).float()


def test_frequency_tuned_matches_scikit_image_reference(cfg):
    generator = SALIENCY_GENERATORS.build(cfg.saliency_generator)
    assert type(generator).__name__ == 'ErasingSaliencyGenerator'
    assert type(generator.detector).__name__ == 'FrequencyTunedSaliency'
    assert generator.thresholds == (0.7, 0.8)  # inherited from the base config
    images = shapes_on_noise(3, seed=6)
    saliency = generator.detector(images)
    assert saliency.shape == (3, 1, 48, 64)
    for image, result in zip(images, saliency):
        expected = torch.from_numpy(frequency_tuned_by_hand(image)).float()
        torch.testing.assert_close(result[0], expected, rtol=0, atol=frequency_tuned_atol(image))
    # S = max(S0, S1, S2), erasing cumulatively to the fill value 0 above 0.7 then 0.8
    fused = generator(images)
    for image, result in zip(images, fused):
        erased, maps = image.clone(), []
        for threshold in (0.7, 0.8, None):
            maps.append(frequency_tuned_by_hand(erased))
            if threshold is not None:
                erased[:, torch.from_numpy(maps[-1] > threshold)] = 0
        expected = torch.from_numpy(np.max(maps, axis=0)).float()
        torch.testing.assert_close(result, expected, rtol=0, atol=frequency_tuned_atol(image))
    assert (fused > saliency[:, 0] + 0.05).any()  # the erasing steps found something new


def test_frequency_tuned_finds_an_odd_square(cfg):
    detector = MODELS.build(cfg.saliency_generator.detector)
    images = 0.05 * torch.randn(1, 3, 96, 128, generator=torch.Generator().manual_seed(8))
    images[..., 30:54, 70:100] += torch.tensor([2.0, -1.0, 0.5])[:, None, None]
    saliency = detector(images)[0, 0]
    assert saliency.shape == (96, 128) and saliency.min() >= 0 and saliency.max() == 1
    far = torch.ones(96, 128, dtype=torch.bool)
    far[26:58, 66:104] = False
    assert saliency[33:51, 73:97].min() > 0.8 and saliency[far].max() < 0.2


def test_cfg_options_delete_swaps_the_detector(cfg):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    swap = ['saliency_generator.detector.type=RobustBackgroundDetector']
    merged = cfg.copy()
    merged.merge_from_dict(parser.parse_args(['--cfg-options', *swap]).cfg_options)
    # without _delete_ the FT keys stay and RBD rejects them
    assert merged.saliency_generator.detector.kernel == (1, 4, 6, 4, 1)
    with pytest.raises(TypeError, match='kernel'):
        SALIENCY_GENERATORS.build(merged.saliency_generator)
    options = parser.parse_args(
        ['--cfg-options', 'saliency_generator.detector._delete_=True', *swap]).cfg_options
    merged = cfg.copy()
    merged.merge_from_dict(options)
    assert dict(merged.saliency_generator.detector) == dict(type='RobustBackgroundDetector')
    generator = SALIENCY_GENERATORS.build(merged.saliency_generator)
    assert type(generator.detector).__name__ == 'RobustBackgroundDetector'


def test_vgg_example_config(cfg):
    vgg = Config.fromfile(VGG_CFG)
    assert dict(vgg.cam_generator) == dict(type='FEMGenerator',
                                           target_layer='backbone.features.29')
    # _delete_ dropped DHSNet's init_cfg
    assert dict(vgg.saliency_generator.detector) == dict(type='FrequencyTunedSaliency')
    generator = SALIENCY_GENERATORS.build(vgg.saliency_generator)
    assert type(generator.detector).__name__ == 'FrequencyTunedSaliency'
    assert vgg.pseudo_dataset.data_root == 'data/VOCdevkit/VOC2012'
    assert vgg.refiner.gamma1 == 0.2 and vgg.refiner.gamma2 == 0.06


def test_gen_pseudo_runs_the_example_config(tmp_path):
    from wsss_mm.datasets.synthetic import make_synthetic_voc
    from wsss_mm.datasets.voc import labels_from_xml
    voc = make_synthetic_voc(str(tmp_path / 'voc'), num_train=3, num_val=1, size=(64, 80),
                             seed=7)
    work = tmp_path / 'work'
    proc = run_tool(['tools/gen_pseudo.py', CFG, '--work-dir', str(work), '--random-weights',
                     '--cfg-options', f'pseudo_dataset.data_root={voc}'])
    assert '3 images done' in proc.stdout
    for img_id in open(osp.join(voc, 'ImageSets/Segmentation/train.txt')).read().split():
        classes = set(np.flatnonzero(
            labels_from_xml(osp.join(voc, 'Annotations', img_id + '.xml'))) + 1)
        pseudo = np.asarray(Image.open(work / 'pseudo_labels' / f'{img_id}.png'))
        assert pseudo.shape == (64, 80) and set(np.unique(pseudo)) <= classes | {0}
        assert Image.open(work / 'saliency' / f'{img_id}.png').size == (80, 64)


def test_docs_list_every_config():
    text = open(osp.join(REPO, 'docs', 'configs.md'), encoding='utf-8').read()
    text += open(osp.join(REPO, 'docs', 'extending.md'), encoding='utf-8').read()
    # configs/my/ is the docs' folder for the reader's own configs
    mentioned = {p for p in re.findall(r'configs/[\w./-]+?\.py', text)
                 if not p.startswith('configs/my/')}
    on_disk = {osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                                        recursive=True)}
    assert not mentioned - on_disk, 'docs name configs that do not exist'
    assert not {p for p in on_disk if '_base_' not in p} - mentioned, \
        'configs missing from the table of docs/configs.md'


def test_extending_doc_quotes_the_real_code():
    """Every block of docs/extending.md marked ``<!-- verbatim: PATH -->`` is a part of PATH."""
    text = open(osp.join(REPO, 'docs', 'extending.md'), encoding='utf-8').read()
    quotes = re.findall(r'<!-- verbatim: (\S+) -->\n```python\n(.*?)```', text, re.S)
    assert len(quotes) == 3
    for path, code in quotes:
        assert code in open(osp.join(REPO, path), encoding='utf-8').read(), path
