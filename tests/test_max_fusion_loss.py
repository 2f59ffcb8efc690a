"""MaxFusionLoss against cross-entropies computed by hand."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from tolerances import f32_atol
from wsss_mm.models import MaxFusionLoss
from wsss_mm.models.losses import resize_labels_nearest
from wsss_mm.registry import MODELS


def _hand_cross_entropy(logits, labels, ignore_index=255):
    """Mean of -log softmax(logits)[label] over non-ignored pixels, in plain Python."""
    batch, channels, height, width = logits.shape
    terms = []
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                label = int(labels[b][i][j])
                if label == ignore_index:
                    continue
                z = [float(logits[b, c, i, j]) for c in range(channels)]
                log_norm = math.log(sum(math.exp(v) for v in z))
                terms.append(log_norm - z[label])
    return sum(terms) / len(terms) if terms else 0.0


def test_sum_over_outputs_with_nearest_labels():
    labels = torch.tensor([[[0, 1, 2, 255],
                            [1, 1, 0, 0],
                            [2, 255, 1, 2],
                            [0, 0, 0, 1]]])
    full = torch.tensor([[[[0.5, -1.0, 2.0, 0.0], [1.0, 0.0, -0.5, 0.3],
                           [0.2, 0.1, 0.0, 1.5], [2.0, -2.0, 0.7, 0.0]],
                          [[1.5, 0.5, -1.0, 0.0], [0.0, 2.5, 0.5, -0.3],
                           [-0.2, 0.4, 1.0, 0.5], [0.0, 1.0, -0.7, 0.9]],
                          [[0.0, 0.0, 0.5, 0.0], [-1.0, 0.5, 1.5, 0.8],
                           [1.2, -0.1, 0.3, 2.5], [0.5, 0.0, 0.2, -0.4]]]])
    half = torch.tensor([[[[0.3, -0.7], [1.1, 0.0]],
                          [[-0.4, 0.9], [0.2, 0.6]],
                          [[1.0, 0.1], [-0.5, 0.8]]]])
    # PIL-style nearest 4×4 → 2×2 reads the cell centres, rows/cols 1 and 3: [[1, 0], [0, 1]]
    half_labels = [[[1, 0], [0, 1]]]
    expected = (_hand_cross_entropy(full, labels.tolist())
                + _hand_cross_entropy(half, half_labels))

    loss = MaxFusionLoss()([full, half], labels)
    # float32 log-softmax over 3 classes, means over 14 + 4 pixels, against float64 by hand
    tol = f32_atol(expected, terms=3 * 18)
    assert loss.item() == pytest.approx(expected, abs=tol)
    assert MaxFusionLoss(loss_weight=0.5).loss([full, half], labels).item() == pytest.approx(
        0.5 * expected, abs=tol)


def test_single_output_is_one_cross_entropy_term():
    logits = torch.tensor([[[[2.0, 0.0]], [[0.0, 1.0]]]])  # 1×2×1×2
    labels = torch.tensor([[[0, 1]]])
    expected = (math.log(math.exp(2.0) + 1.0) - 2.0 + math.log(1.0 + math.e) - 1.0) / 2
    assert MaxFusionLoss()([logits], labels).item() == pytest.approx(
        expected, abs=f32_atol(expected, terms=2 * 2))


def test_all_ignored_gives_zero_and_gradients_flow():
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    labels = torch.full((2, 8, 8), 255)
    loss = MaxFusionLoss()([logits, logits * 2], labels)
    assert loss.item() == 0.0
    loss.backward()
    assert logits.grad is not None and torch.all(logits.grad == 0)


def test_custom_ignore_index_and_registry():
    loss_fn = MODELS.build(dict(type='MaxFusionLoss', ignore_index=0))
    logits = torch.tensor([[[[1.0, 3.0]], [[2.0, 0.0]]]])
    labels = torch.tensor([[[0, 1]]])  # pixel 0 ignored
    expected = math.log(math.exp(3.0) + 1.0) - 0.0
    assert loss_fn([logits], labels).item() == pytest.approx(
        expected, abs=f32_atol(expected, terms=2))


def test_shape_errors():
    with pytest.raises(ValueError, match='labels'):
        MaxFusionLoss()([torch.zeros(1, 2, 2, 2)], torch.zeros(1, 1, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r'\(2, 2, 2, 2\)'):
        MaxFusionLoss()([torch.zeros(2, 2, 2, 2)], torch.zeros(1, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError):
        MaxFusionLoss()([], torch.zeros(1, 2, 2, dtype=torch.long))


@pytest.mark.parametrize('in_size,out_size', [
    ((321, 321), (41, 41)),      # DeepLab-v2's x1 logits of a 321 crop
    ((321, 321), (31, 31)),      # x0.75
    ((321, 321), (21, 21)),      # x0.5
    ((320, 320), (40, 40)),      # even sizes: every centre on an exact half-pixel
    ((240, 322), (30, 41)),
    ((7, 9), (16, 20)),          # upsampling
])
def test_label_resize_matches_pil_nearest(in_size, out_size):
    """deeplab-pytorch's resize_labels: PIL.Image.resize(..., NEAREST) of the label map."""
    rng = np.random.default_rng(sum(in_size) + sum(out_size))
    labels = rng.integers(0, 21, size=(2, *in_size)).astype(np.uint8)
    labels[:, ::5] = 255
    expected = np.stack([
        np.asarray(Image.fromarray(label).resize(out_size[::-1], resample=Image.NEAREST))
        for label in labels])
    ours = resize_labels_nearest(torch.from_numpy(labels.astype(np.int64)), out_size)
    assert ours.dtype == torch.int64
    np.testing.assert_array_equal(ours.numpy(), expected)


def test_loss_uses_the_pil_labels_at_each_output_size():
    """The ×0.5 term of a 321 crop is the cross-entropy against PIL's 21×21 labels."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (1, 321, 321), generator=gen)
    small = torch.randn(1, 3, 21, 21, generator=gen)
    pil = np.asarray(Image.fromarray(labels[0].numpy().astype(np.uint8)).resize(
        (21, 21), resample=Image.NEAREST))
    expected = torch.nn.functional.cross_entropy(
        small.double(), torch.from_numpy(pil.astype(np.int64))[None])
    # float32 log-softmax of 3 classes, mean over 21 × 21 pixels
    assert MaxFusionLoss()([small], labels).item() == pytest.approx(
        expected.item(), abs=f32_atol(expected, terms=3 * 21 * 21))
