"""PseudoLabelFuser (Algorithm 1) against hand-computed labels."""
import pytest
import torch

from wsss_mm.pseudo import PseudoLabelFuser
from wsss_mm.registry import PSEUDO_LABEL_FUSERS

# A 3×4 image with classes 0 and 2 present (VOC ids 1 and 3) and class 1 absent.
SALIENCY = torch.tensor([[0.00, 0.20, 0.50, 0.90],
                         [0.10, 0.30, 0.30, 0.80],
                         [0.04, 0.20, 0.60, 1.00]])
ATTENTION = torch.stack([
    torch.tensor([[0.9, 0.0, 0.1, 0.2],
                  [0.2, 0.4, 0.0, 0.1],
                  [0.3, 0.1, 0.2, 0.0]]),
    torch.ones(3, 4),  # absent class: the strongest everywhere, must never count
    torch.tensor([[0.0, 0.0, 0.3, 0.8],
                  [0.0, 0.0, 0.6, 0.0],
                  [0.0, 0.3, 0.7, 0.0]]),
])
LABELS = torch.tensor([1, 0, 1])

# By hand, M_c = (A_c + S) / 2 for c in {0, 2} (pixel: M_0 / M_2 -> label):
# (0,0) S=0 < 0.06 -> 0 although M_0=0.45   (0,1) 0.10/0.10 < 0.2 -> 0
# (0,2) 0.30/0.40 -> 3                      (0,3) 0.55/0.85 -> 3
# (1,0) 0.15/0.05 < 0.2 -> 0                (1,1) 0.35/0.15 -> 1
# (1,2) 0.15/0.45 -> 3                      (1,3) 0.45/0.40 -> 1
# (2,0) S=0.04 < 0.06 -> 0                  (2,1) 0.15/0.25 -> 3
# (2,2) 0.40/0.65 -> 3                      (2,3) 0.50/0.50 tie -> lower id 1
EXPECTED = torch.tensor([[0, 0, 3, 3],
                         [0, 1, 3, 1],
                         [0, 3, 3, 1]])
# Ignore band 0.06 around 0.2 -> max M in [0.14, 0.26] and S >= 0.06 becomes 255:
# (1,0) max 0.15 and (2,1) max 0.25; (2,0) has M_0=0.17 but S < gamma2 stays 0;
# (0,1) max 0.10 stays 0.
EXPECTED_BAND = torch.tensor([[0, 0, 3, 3],
                              [255, 1, 3, 1],
                              [0, 255, 3, 1]])


def test_algorithm1_hand_example():
    pseudo = PseudoLabelFuser(gamma1=0.2, gamma2=0.06)(ATTENTION, SALIENCY, LABELS)
    assert pseudo.dtype == torch.int64
    assert torch.equal(pseudo, EXPECTED)


def test_absent_class_would_change_the_result():
    # Sanity of the example: with class 1 present it wins wherever salient enough.
    pseudo = PseudoLabelFuser()(ATTENTION, SALIENCY, torch.tensor([1, 1, 1]))
    expected = torch.tensor([[0, 2, 2, 2],
                             [2, 2, 2, 2],
                             [0, 2, 2, 2]])
    assert torch.equal(pseudo, expected)


def test_saliency_normalization_by_max():
    """A dimmer saliency map (0.35 S, peak 0.35): 'max' divides it back to S, 'none' keeps it.

    By hand with S' = 0.35 S, raw: S' < 0.06 at column 0 -> 0; (0,1) M = 0.035 -> 0;
    (0,2) M_2 = (0.3 + 0.175) / 2 = 0.2375 -> 3; (0,3) M_2 = 0.5575 -> 3; (1,1) M_0 = 0.2525 -> 1;
    (1,2) M_2 = 0.3525 -> 3; (1,3) M_0 = 0.19, M_2 = 0.14 -> 0; (2,1) M_2 = 0.185 -> 0;
    (2,2) M_2 = 0.455 -> 3; (2,3) M = 0.175 -> 0.
    """
    dim = SALIENCY * 0.35
    raw = PseudoLabelFuser(saliency_norm='none')(ATTENTION, dim, LABELS)
    assert torch.equal(raw, torch.tensor([[0, 0, 3, 3],
                                          [0, 1, 3, 0],
                                          [0, 0, 3, 0]]))
    by_max = PSEUDO_LABEL_FUSERS.build(dict(type='PseudoLabelFuser', saliency_norm='max'))
    assert torch.equal(by_max(ATTENTION, dim, LABELS), EXPECTED)
    # per image in a batch; an all-zero map stays zero (all background, no NaN)
    batch = by_max.fuse_batch(torch.stack([ATTENTION, ATTENTION]),
                              torch.stack([dim, torch.zeros(3, 4)]), torch.stack([LABELS] * 2))
    assert torch.equal(batch[0], EXPECTED) and torch.equal(batch[1], torch.zeros(3, 4).long())
    with pytest.raises(ValueError, match="'sum'"):
        PseudoLabelFuser(saliency_norm='sum')


def test_ignore_band():
    fuser = PseudoLabelFuser(gamma1=0.2, gamma2=0.06, ignore_band=0.06, ignore_index=255)
    assert torch.equal(fuser(ATTENTION, SALIENCY, LABELS), EXPECTED_BAND)


def test_thresholds_are_strict_inequalities():
    # Dyadic values are exact in float32: M == gamma1 and S == gamma2 are foreground.
    fuser = PseudoLabelFuser(gamma1=0.25, gamma2=0.125)
    saliency = torch.tensor([[0.125, 0.125, 0.0625]])
    attention = torch.tensor([[[0.375, 0.25, 1.0]]])  # M = 0.25, 0.1875, 0.53125
    assert torch.equal(fuser(attention, saliency, torch.tensor([1])),
                       torch.tensor([[1, 0, 0]]))


def test_image_without_classes_is_background():
    pseudo = PseudoLabelFuser(ignore_band=0.1)(ATTENTION, SALIENCY, torch.zeros(3))
    assert torch.equal(pseudo, torch.zeros(3, 4, dtype=torch.int64))


def test_batch_matches_single_images():
    generator = torch.Generator().manual_seed(0)
    attention = torch.rand(3, 20, 6, 7, generator=generator)
    saliency = torch.rand(3, 6, 7, generator=generator)
    labels = (torch.rand(3, 20, generator=generator) > 0.7).long()
    labels[2] = 0
    fuser = PseudoLabelFuser(ignore_band=0.05)
    batch = fuser.fuse_batch(attention, saliency, labels)
    assert batch.shape == (3, 6, 7)
    for i in range(3):
        assert torch.equal(batch[i], fuser(attention[i], saliency[i], labels[i]))


@pytest.mark.parametrize('attention, saliency, labels', [
    (torch.rand(3, 3, 4), torch.rand(3, 5), torch.ones(3)),
    (torch.rand(3, 3, 4), torch.rand(3, 4), torch.ones(2)),
    (torch.rand(3, 4), torch.rand(3, 4), torch.ones(1)),
])
def test_shape_mismatch_names_shapes(attention, saliency, labels):
    with pytest.raises(ValueError, match=r'got \(.*\), \(.*\), \(.*\)'):
        PseudoLabelFuser()(attention, saliency, labels)


def test_registry_and_invalid_band():
    fuser = PSEUDO_LABEL_FUSERS.build(dict(type='PseudoLabelFuser', gamma1=0.3))
    assert isinstance(fuser, PseudoLabelFuser) and fuser.gamma1 == 0.3
    assert fuser.gamma2 == 0.06 and fuser.ignore_band is None
    with pytest.raises(ValueError):
        PseudoLabelFuser(ignore_band=-0.1)
