"""The per-image pseudo-label pipeline (wsss_mm.apis) on a tiny model, against references
computed here by hand: normalization written out, Algorithm 1 in float64 NumPy."""
import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample
from torch import nn

MEAN = np.array([100.0, 110.0, 120.0])
STD = np.array([50.0, 60.0, 70.0])


class _Saliency(nn.Module):
    """A fixed detector: sigmoid of a 1x1 convolution (normalized RGB -> [B, H, W])."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([0.9, -0.5, 0.3]).view(1, 3, 1, 1))
            self.conv.bias.fill_(0.1)

    def forward(self, x):
        return torch.sigmoid(self.conv(x))[:, 0]


def _pipeline(label_ids):
    from wsss_mm.apis import PseudoLabelPipeline
    from wsss_mm.cam import GradCAMGenerator
    from wsss_mm.pseudo import SaliencyFusionRefiner
    from wsss_mm.registry import MODELS
    from wsss_mm.saliency import ErasingSaliencyGenerator
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    classifier = MODELS.build(dict(
        type='MultiLabelClassifier',
        data_preprocessor=dict(type='ImgDataPreprocessor', mean=MEAN.tolist(), std=STD.tolist(),
                               bgr_to_rgb=True),
        backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                      strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), out_indices=(3, )),
        head=dict(type='GAPLinearHead', in_channels=64, num_classes=len(label_ids))))
    classifier.init_weights()
    cam = GradCAMGenerator(classifier, target_layer='backbone.layer4')
    saliency = ErasingSaliencyGenerator(_Saliency(), thresholds=(0.7, ))
    prep = MODELS.build(dict(type='ImgDataPreprocessor', mean=MEAN.tolist(), std=STD.tolist(),
                             bgr_to_rgb=True))
    pipeline = PseudoLabelPipeline(classifier, cam, SaliencyFusionRefiner(), label_ids,
                                   cue_network=lambda x: saliency(x)[0], cue_preprocessor=prep)
    return pipeline, saliency


def _sample(rgb, labels):
    sample = SegDataSample()
    sample.set_field(torch.tensor(labels, dtype=torch.float32), 'gt_label')
    sample.set_metainfo(dict(img_path='x.jpg', ori_shape=rgb.shape[:2]))
    bgr = torch.from_numpy(np.ascontiguousarray(rgb[..., ::-1])).permute(2, 0, 1)
    return dict(inputs=bgr, data_samples=sample)


def _normalized(rgb):
    """[1, 3, H, W] float32 of (RGB - mean) / std, computed in float64."""
    x = (rgb.astype(np.float64) - MEAN) / STD
    return torch.from_numpy(x.transpose(2, 0, 1)[None]).float()


def test_attention_and_saliency_see_normalized_rgb():
    """Inputs go through the preprocessors (BGR -> RGB, mean/std): the maps equal the
    generators' output on RGB normalized by hand; ids are the dataset's label values."""
    pipe, saliency_generator = _pipeline(label_ids=(3, 7, 11))
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
    data = _sample(rgb, [1, 0, 1])
    cams, ids = pipe.attention(data)
    assert ids.tolist() == [3, 11] and ids.dtype == np.uint8
    reference = pipe.cam_generator(_normalized(rgb), torch.tensor([[1., 0., 1.]]))[0][[0, 2]]
    # float16 storage: half an ulp of float16 at the maps' scale (<= 1), plus float32 noise
    # of the two (identically ordered) normalizations
    np.testing.assert_allclose(cams.numpy(), reference.numpy(), rtol=0, atol=2**-11 + 1e-5)
    assert cams.shape == (2, 24, 32) and cams.dtype == torch.float32
    from wsss_mm.io import quantize_saliency
    saliency = quantize_saliency(pipe.cue(data))
    expected = saliency_generator(_normalized(rgb))[0].clamp(0, 1).numpy() * 255
    # 8-bit storage: rounding to the nearest level (float32 noise may flip an exact .5)
    assert np.abs(saliency.astype(np.float64) - expected).max() <= 0.5 + 1e-3
    # a swapped channel order would change the maps far beyond these bounds
    swapped = saliency_generator(_normalized(rgb[..., ::-1].copy()))[0].numpy() * 255
    assert np.abs(saliency.astype(np.float64) - swapped).max() > 5


def _algorithm1(att, sal, present, gamma1=0.2, gamma2=0.06):
    """Algorithm 1 of Xu et al. in float64: returns 0 or 1 + the winning channel."""
    m = (att.astype(np.float64) + sal[None]) / 2
    m[~np.asarray(present, bool)] = -np.inf
    best = m.max(0)
    out = m.argmax(0) + 1
    out[(best < gamma1) | (sal < gamma2)] = 0
    return out


def test_fuse_maps_channels_to_non_contiguous_label_values():
    pipe, _ = _pipeline(label_ids=(5, 9, 42))
    rng = np.random.default_rng(1)
    cams = rng.random((2, 9, 11)).astype(np.float16).astype(np.float32)
    sal_u8 = rng.integers(0, 256, size=(9, 11), dtype=np.uint8)
    class_ids = np.array([9, 42], np.uint8)
    labels = pipe.refine(torch.from_numpy(cams), class_ids, None, sal_u8)
    att = np.zeros((3, 9, 11))
    att[1:] = cams
    channel = _algorithm1(att, sal_u8 / 255.0, [0, 1, 1])
    expected = np.array([0, 5, 9, 42])[channel]
    np.testing.assert_array_equal(labels, expected)
    assert {9, 42} <= set(np.unique(labels).tolist()) and labels.dtype == np.uint8


def test_fuse_rejects_ids_outside_the_dataset():
    from wsss_mm.io import InputError
    pipe, _ = _pipeline(label_ids=(1, 2))
    with pytest.raises(InputError, match=r'class ids \[7\]'):
        pipe.refine(torch.zeros(1, 4, 4), np.array([7], np.uint8), None,
                    np.zeros((4, 4), np.uint8))


def test_cam_input_size_switch():
    """None (default) computes CAMs on the original image; an int resizes the classifier
    input to that long side and the maps back, peak 1 per present class."""
    pipe, _ = _pipeline(label_ids=(1, 2, 3))
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
    data = _sample(rgb, [0, 1, 1])
    default, _ = pipe.attention(data)
    seen = []
    generator = pipe.cam_generator
    pipe.cam_generator = lambda images, labels: seen.append(images.shape) or generator(
        images, labels)
    pipe.cam_input_size = 32  # the original long side: the same maps
    same, _ = pipe.attention(data)
    np.testing.assert_array_equal(same.numpy(), default.numpy())
    pipe.cam_input_size = 16
    small, ids = pipe.attention(data)
    assert [tuple(s) for s in seen] == [(1, 3, 24, 32), (1, 3, 12, 16)]
    assert small.shape == (2, 24, 32) and ids.tolist() == [2, 3]
    peaks = small.amax(dim=(1, 2)).numpy()
    np.testing.assert_allclose(peaks[peaks > 0], 1.0, atol=2**-11)
    assert not np.array_equal(small.numpy(), default.numpy())
