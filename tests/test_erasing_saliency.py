"""ErasingSaliencyGenerator (Eq. 3) with a hand-computable detector."""
import pytest
import torch
import torch.nn as nn

from wsss_mm.registry import SALIENCY_GENERATORS
from wsss_mm.saliency import ErasingSaliencyGenerator, RobustBackgroundDetector


class MaxRatioDetector(nn.Module):
    """S = max(x_0, 0) / max over the image of max(x_0, 0): the brightest pixel wins.

    Records its mode and whether gradients were enabled at every call.
    """

    def __init__(self, squeeze: bool = False) -> None:
        super().__init__()
        self.squeeze = squeeze
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        positive = x[:, :1].clamp(min=0)
        saliency = positive / positive.amax(dim=(2, 3), keepdim=True)
        return saliency[:, 0] if self.squeeze else saliency


def make_image(channel0):
    image = torch.stack([torch.tensor(channel0), torch.full((2, 3), 0.5), torch.full((2, 3), -0.5)])
    return image[None]


IMAGE = make_image([[1.0, 0.8, 0.4],
                    [0.2, 0.0, 0.5]])
# By hand, thresholds (0.7, 0.8), fill 0:
# S0 = I0 / 1.0                  = [[1.0, 0.8, 0.4], [0.2, 0.0, 0.5]]
# erase S0 > 0.7 -> (0,0), (0,1): I1_0 = [[0, 0, 0.4], [0.2, 0, 0.5]]
# S1 = I1 / 0.5                  = [[0, 0, 0.8], [0.4, 0, 1.0]]
# erase S1 > 0.8 -> (1,2) only (0.8 is not > 0.8), cumulative on I1:
#                  I2_0 = [[0, 0, 0.4], [0.2, 0, 0]]
# S2 = I2 / 0.4                  = [[0, 0, 1.0], [0.5, 0, 0]]
# S = max(S0, S1, S2)            = [[1.0, 0.8, 1.0], [0.5, 0.0, 1.0]]
S0 = torch.tensor([[1.0, 0.8, 0.4], [0.2, 0.0, 0.5]])
S1 = torch.tensor([[0.0, 0.0, 0.8], [0.4, 0.0, 1.0]])
S2 = torch.tensor([[0.0, 0.0, 1.0], [0.5, 0.0, 0.0]])
S = torch.tensor([[1.0, 0.8, 1.0], [0.5, 0.0, 1.0]])
ERASED1 = torch.tensor([[True, True, False], [False, False, False]])
ERASED2 = torch.tensor([[True, True, False], [False, False, True]])


def test_hand_example_maps_and_fusion():
    generator = ErasingSaliencyGenerator(MaxRatioDetector(), thresholds=(0.7, 0.8))
    inputs, maps = generator.erase_steps(IMAGE)
    assert len(inputs) == len(maps) == 3
    for got, expected in zip(maps, (S0, S1, S2)):
        torch.testing.assert_close(got[0], expected)
    saliency = generator(IMAGE)
    assert saliency.shape == (1, 2, 3)
    torch.testing.assert_close(saliency[0], S)


def test_erased_inputs_are_cumulative_and_filled():
    generator = ErasingSaliencyGenerator(MaxRatioDetector(), thresholds=(0.7, 0.8))
    inputs, _ = generator.erase_steps(IMAGE)
    assert torch.equal(inputs[0], IMAGE)
    for erased, image in ((ERASED1, inputs[1]), (ERASED2, inputs[2])):
        assert torch.equal(image[0][:, erased], torch.zeros(3, int(erased.sum())))
        assert torch.equal(image[0][:, ~erased], IMAGE[0][:, ~erased])


def test_per_channel_fill_value():
    fill = (-1.0, 2.0, 3.0)
    generator = ErasingSaliencyGenerator(MaxRatioDetector(), thresholds=(0.7, ), fill_value=fill)
    inputs, maps = generator.erase_steps(IMAGE)
    assert torch.equal(inputs[1][0][:, ERASED1], torch.tensor(fill)[:, None].expand(3, 2))
    # The detector clamps -1 to 0, so S1 is the same as with fill 0.
    torch.testing.assert_close(maps[1][0], S1)
    torch.testing.assert_close(generator(IMAGE)[0], torch.maximum(S0, S1))


def test_image_mean_fill_by_hand():
    """fill_mode='image_mean': erased pixels take the per-channel mean of I_0.

    Channel means of IMAGE: (1.0 + 0.8 + 0.4 + 0.2 + 0.0 + 0.5) / 6 = 29/60, 0.5, -0.5.
    I1_0 = [[29/60, 29/60, 0.4], [0.2, 0, 0.5]];
    S1 = I1_0 / 0.5 = [[29/30, 29/30, 0.8], [0.4, 0, 1]];
    erase S1 > 0.8 -> (0,0), (0,1), (1,2): I2_0 = [[29/60, 29/60, 0.4], [0.2, 0, 29/60]],
    S2 = I2_0 / (29/60) = [[1, 1, 24/29], [12/29, 0, 1]].
    """
    generator = ErasingSaliencyGenerator(MaxRatioDetector(), thresholds=(0.7, 0.8),
                                         fill_mode='image_mean')
    second = make_image([[0.0, 0.6, 0.0], [0.0, 0.0, 0.0]])  # mean 0.1: only (0,1) erased
    inputs, maps = generator.erase_steps(torch.cat([IMAGE, second]))
    m = 29 / 60
    torch.testing.assert_close(inputs[1][0], make_image([[m, m, 0.4], [0.2, 0.0, 0.5]])[0])
    torch.testing.assert_close(inputs[2][0], make_image([[m, m, 0.4], [0.2, 0.0, m]])[0])
    torch.testing.assert_close(maps[1][0], torch.tensor([[29 / 30, 29 / 30, 0.8], [0.4, 0, 1]]))
    torch.testing.assert_close(maps[2][0], torch.tensor([[1, 1, 24 / 29], [12 / 29, 0, 1]]))
    torch.testing.assert_close(inputs[1][1], make_image([[0.0, 0.1, 0.0], [0.0, 0.0, 0.0]])[0])
    with pytest.raises(ValueError, match="'mean'"):
        ErasingSaliencyGenerator(MaxRatioDetector(), fill_mode='mean')


def test_thresholds_control_the_steps():
    no_erasing = ErasingSaliencyGenerator(MaxRatioDetector(), thresholds=())
    torch.testing.assert_close(no_erasing(IMAGE)[0], S0)
    # A threshold of 0.9 erases only (0,0); then S1 = I1 / 0.8.
    once = ErasingSaliencyGenerator(MaxRatioDetector(), thresholds=(0.9, ))
    expected = torch.maximum(S0, torch.tensor([[0.0, 1.0, 0.5], [0.25, 0.0, 0.625]]))
    torch.testing.assert_close(once(IMAGE)[0], expected)


def test_batch_matches_single_images_and_squeezed_detectors():
    other = make_image([[0.1, 0.9, 0.3], [0.6, 0.75, 0.2]])
    batch = torch.cat([IMAGE, other])
    generator = ErasingSaliencyGenerator(MaxRatioDetector(squeeze=True))
    fused = generator(batch)
    assert fused.shape == (2, 2, 3)
    torch.testing.assert_close(fused[0], generator(IMAGE)[0])
    torch.testing.assert_close(fused[1], generator(other)[0])
    torch.testing.assert_close(fused[0], S)


def test_detector_runs_in_eval_mode_without_grad():
    detector = MaxRatioDetector()
    generator = ErasingSaliencyGenerator(detector).train()
    assert generator.training and not detector.training
    generator(IMAGE)
    assert detector.calls == [(False, False)] * 3


def test_build_from_config_with_a_real_detector():
    generator = SALIENCY_GENERATORS.build(dict(
        type='ErasingSaliencyGenerator', detector=dict(type='RobustBackgroundDetector'),
        thresholds=(0.7, 0.8)))
    assert isinstance(generator.detector, RobustBackgroundDetector)
    image = torch.zeros(1, 3, 24, 32)
    image[:, :, 8:16, 10:22] = 2.0
    saliency = generator(image)
    assert saliency.shape == (1, 24, 32)
    assert 0 <= saliency.min() and saliency.max() <= 1


def test_invalid_inputs():
    with pytest.raises(ValueError, match='fill_value'):
        ErasingSaliencyGenerator(MaxRatioDetector(), fill_value=(0.0, 1.0))
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        ErasingSaliencyGenerator(MaxRatioDetector())(torch.zeros(3, 4, 4))
