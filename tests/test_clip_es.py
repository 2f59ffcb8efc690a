"""CLIP-ES seeds and CAA against independent references.

Seeds: pytorch-grad-cam (pip ``grad-cam``) ``GradCAM`` with a ``reshape_transform`` and
a softmax target, one class per call, as CLIP-ES computes them, on the same randomly
initialized CLIP ViT; our engine does all classes of the batch in one backward. As
CLIP-ES (``target_size=None``) the reference maps are taken on the patch grid (its
``get_target_width_height`` names the grid) and upsampled with ``cv2.resize``. In
float64 the reference's float32 cast, its two min-max steps and the 1e-7 it adds to
each maximum cost a few eps32 (``REF_ATOL = 32 eps32``, as tests/test_cam.py); at
ViT-B/16 size in float32 the rounding budget of tests/tolerances.py applies.

CAA: a float64 numpy transcription of CLIP-ES's generate_cams_voc12.py (its
``scoremap2bbox``, the normalization loops, the masked product) on small inputs.
"""
import math

import cv2
import numpy as np
import pytest
import pytorch_grad_cam
import torch
import torch.nn.functional as F
from torch import nn

from tolerances import EPS32, assert_close_f32, network_terms
from wsss_mm.cam import ClipESGradCAMGenerator
from wsss_mm.models import VIT_B_16_ARCH, CLIPZeroShotClassifier
from wsss_mm.pseudo import BgPowerRefiner, ClipESCRFRefiner, caa_refine, cam_box_mask

REF_ATOL = 32 * EPS32
CLASSES = ['cat', 'dog', 'person', 'boat', 'sky plane']
PROMPTS = {'cat': 'cat', 'dog': 'dog avian', 'person': 'person with clothes,people,human',
           'boat': 'boat', 'sky plane': 'aeroplane'}
BACKGROUND = ['ground', 'sky', 'water']
SMALL_ARCH = dict(embed_dim=32, vision_patch_size=16, vision_grid=4, vision_width=64,
                  vision_layers=3, vision_heads=1, context_length=77, vocab_size=49408,
                  text_width=64, text_layers=1, text_heads=1)


def classifier(arch, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    model = CLIPZeroShotClassifier(CLASSES, PROMPTS, BACKGROUND, arch=arch)
    with torch.no_grad():  # sharper random attention than the init's: CAMs with structure
        for block in model.clip.visual.transformer.resblocks:
            block.attn.in_proj_weight.mul_(4)
    return model.to(dtype).eval()


class SoftmaxOverPresent(nn.Module):
    """CLIP-ES's ``forward_last_layer``: softmax over [present classes + background]."""

    def __init__(self, model, present):
        super().__init__()
        self.model, self.present = model, present

    def forward(self, x):
        logits = self.model(x)
        keep = list(self.present) + list(range(len(CLASSES), logits.shape[1]))
        return logits[:, keep].softmax(dim=-1)


class ClipTarget:
    """CLIP-ES's ``ClipOutputTarget``: the softmax score of one present class."""

    def __init__(self, index):
        self.index = index

    def __call__(self, output):
        return output[self.index] if output.dim() == 1 else output[:, self.index]


def reference_grid_maps(model, image, present):
    """pytorch-grad-cam, one class per call, maps on the patch grid ``[K, h, w]``."""
    h, w = model.grid_size(*image.shape[-2:])

    def reshape(tokens):  # [N, 1 + h*w, D] -> [N, D, h, w], class token dropped
        return tokens[:, 1:].reshape(tokens.shape[0], h, w, -1).permute(0, 3, 1, 2)

    class GridGradCAM(pytorch_grad_cam.GradCAM):
        def get_target_width_height(self, input_tensor):  # CLIP-ES: target_size=None
            return w, h

    wrapper = SoftmaxOverPresent(model, present)
    layer = model.clip.visual.transformer.resblocks[-1].ln_1
    # as CLIP-ES (blocks 1-11 under no_grad): the graph starts at the last block's ln_1
    for p in model.parameters():
        p.requires_grad_(False)
    layer.weight.requires_grad_(True)
    maps = []
    with GridGradCAM(model=wrapper, target_layers=[layer], reshape_transform=reshape) as cam:
        for k in range(len(present)):
            maps.append(cam(input_tensor=image, targets=[ClipTarget(k)])[0])
    return np.stack(maps)


@pytest.mark.parametrize('size', [(48, 64), (40, 57)])
def test_seeds_equal_pytorch_grad_cam(size):
    model = classifier(SMALL_ARCH)
    torch.manual_seed(1)
    images = torch.randn(2, 3, *size, dtype=torch.float64)
    labels = torch.zeros(2, len(CLASSES), dtype=torch.float64)
    labels[0, [0, 2, 4]] = 1
    labels[1, [1]] = 1
    generator = ClipESGradCAMGenerator(model)
    maps = generator(images, labels)
    grid = generator.grid_maps()
    # the model is left as it was: no gradients, parameters trainable again
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
    for b in range(2):
        present = labels[b].nonzero().flatten().tolist()
        ref = reference_grid_maps(model, images[b:b + 1], present)
        torch.testing.assert_close(grid[b, present], torch.from_numpy(ref).double(),
                                   rtol=0, atol=REF_ATOL)
        ref_full = np.stack([cv2.resize(m, (size[1], size[0])) for m in ref])
        torch.testing.assert_close(maps[b, present], torch.from_numpy(ref_full).double(),
                                   rtol=0, atol=REF_ATOL)
        absent = [c for c in range(len(CLASSES)) if c not in present]
        assert maps[b, absent].abs().max() == 0


def test_seeds_equal_pytorch_grad_cam_vit_b16():
    # ViT-B/16's image encoder; a one-layer text encoder keeps the prompts cheap
    arch = dict(VIT_B_16_ARCH, text_width=64, text_layers=1, text_heads=1)
    model = classifier(arch, dtype=torch.float32)
    torch.manual_seed(2)
    image = torch.randn(1, 3, 64, 80)
    labels = torch.zeros(1, len(CLASSES))
    labels[0, [1, 3]] = 1
    generator = ClipESGradCAMGenerator(model)
    generator(image, labels)
    ref = reference_grid_maps(model, image, [1, 3])
    assert_close_f32(generator.grid_maps()[0, [1, 3]], torch.from_numpy(ref),
                     terms=network_terms(model.clip.visual))


def test_affinity_is_mean_attention_of_last_blocks():
    """Float64 transcription of the attention weights (softmax(q k^T / sqrt(d)), heads
    averaged) of the last 2 blocks, from the blocks' inputs."""
    arch = dict(SMALL_ARCH, vision_width=128, vision_heads=2)
    model = classifier(arch)
    torch.manual_seed(3)
    image = torch.randn(1, 3, 32, 48, dtype=torch.float64)
    labels = torch.zeros(1, len(CLASSES), dtype=torch.float64)
    labels[0, 2] = 1
    generator = ClipESGradCAMGenerator(model, affinity_blocks=2)
    generator(image, labels)
    inputs = []
    blocks = model.clip.visual.transformer.resblocks
    hooks = [b.register_forward_pre_hook(lambda m, a: inputs.append(a[0].detach()))
             for b in blocks[-2:]]
    with torch.no_grad():
        model(image)
    for hook in hooks:
        hook.remove()
    expected = 0
    for block, x in zip(blocks[-2:], inputs):
        h = F.layer_norm(x[0], (128, ), block.ln_1.weight, block.ln_1.bias).detach().numpy()
        wq, wk, _ = np.split(block.attn.in_proj_weight.detach().numpy(), 3)
        bq, bk, _ = np.split(block.attn.in_proj_bias.detach().numpy(), 3)
        q, k = h @ wq.T + bq, h @ wk.T + bk
        heads = []
        for i in range(2):
            s = q[:, i * 64:(i + 1) * 64] @ k[:, i * 64:(i + 1) * 64].T / math.sqrt(64)
            e = np.exp(s - s.max(axis=1, keepdims=True))
            heads.append(e / e.sum(axis=1, keepdims=True))
        expected = expected + np.mean(heads, axis=0)[1:, 1:] / 2
    torch.testing.assert_close(generator.affinity()[0], torch.from_numpy(expected),
                               rtol=0, atol=1e-12)


def scoremap2bbox_mask(scoremap, threshold):
    """CLIP-ES utils.scoremap2bbox (multi_contour_eval=True) + its box loop, transcribed."""
    height, width = scoremap.shape
    image = np.expand_dims((scoremap * 255).astype(np.uint8), 2)
    _, binary = cv2.threshold(src=image, thresh=int(threshold * np.max(image)), maxval=255,
                              type=cv2.THRESH_BINARY)
    contours = cv2.findContours(image=binary, mode=cv2.RETR_TREE,
                                method=cv2.CHAIN_APPROX_SIMPLE)[-2]
    boxes = [[0, 0, 0, 0]]
    if len(contours):
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append([x, y, min(x + w, width - 1), min(y + h, height - 1)])
    mask = np.zeros((height, width))
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = 1
    return mask


def caa_float64(attn, cam, threshold=0.4):
    """CLIP-ES generate_cams_voc12.py, one class, in float64."""
    h, w = cam.shape
    mask = scoremap2bbox_mask(cam, threshold).reshape(1, h * w)
    t = attn / attn.sum(axis=0, keepdims=True)
    t = t / t.sum(axis=1, keepdims=True)
    for _ in range(2):
        t = t / t.sum(axis=0, keepdims=True)
        t = t / t.sum(axis=1, keepdims=True)
    t = (t + t.T) / 2
    t = t @ t
    t = t * mask
    refined = (t @ cam.reshape(-1, 1)).reshape(h, w)
    refined = refined - refined.min()
    return refined / refined.max()


def test_box_mask_hand_computed():
    cam = np.zeros((6, 8))
    cam[1:3, 1:4] = 1.0  # box x 1..3, y 1..2 -> [1, 4) x [1, 3)
    cam[4:6, 6:8] = 0.8  # touches the far edges: clipped to [6, 7) x [4, 5)
    cam[0, 7] = 0.3  # below 0.4 * max
    expected = np.zeros((6, 8), dtype=np.float32)
    expected[1:3, 1:4] = 1
    expected[4:5, 6:7] = 1
    np.testing.assert_array_equal(cam_box_mask(cam, 0.4), expected)


def test_caa_equals_float64_transcription():
    rng = np.random.default_rng(0)
    h, w = 5, 7
    n = h * w
    scores = rng.normal(size=(n, n)) * 3
    attn = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    yy, xx = np.mgrid[0:h, 0:w]
    cams = []
    for cy, cx in [(1, 1), (3, 5), (2, 3)]:
        blob = np.exp(-((yy - cy)**2 + (xx - cx)**2) / 2.0) + 0.1 * rng.random((h, w))
        cams.append((blob - blob.min()) / (blob.max() - blob.min()))
    cams = np.stack(cams).astype(np.float32)
    refined = caa_refine(torch.from_numpy(attn).float(), torch.from_numpy(cams))
    expected = np.stack([caa_float64(attn, c.astype(np.float64)) for c in cams])
    assert_close_f32(refined, torch.from_numpy(expected), terms=8 * n)


def test_bg_power_labels_hand_computed():
    cams = torch.tensor([[[0.9, 0.2], [0.5, 0.0]], [[0.1, 0.3], [0.6, 0.0]]])
    # background (1 - max)^2: 0.01, 0.49, 0.16, 1.0
    labels = BgPowerRefiner(bg_power=2).refine(cams, [3, 7], None, None)
    np.testing.assert_array_equal(labels, [[3, 0], [7, 0]])


def test_clip_es_crf_equals_eval_cam_with_crf():
    """CLIP-ES eval_cam_with_crf.py transcribed on pydensecrf (the image itself as the
    colour input): bg 1 - max, CRF 10 iterations 1/3 + 67/3/4, keys, conf < 0.95 -> 255."""
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    image[:, 12:] //= 4
    cams = np.zeros((2, 20, 24), np.float32)
    cams[0, 2:12, 2:11] = 0.9
    cams[1, 8:18, 13:22] = 0.7
    cams += 0.05 * rng.random(cams.shape).astype(np.float32)
    prob = np.concatenate([1 - cams.max(axis=0, keepdims=True), cams])
    d = dcrf.DenseCRF2D(24, 20, 3)
    d.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(prob)))
    d.addPairwiseGaussian(sxy=1, compat=3)
    d.addPairwiseBilateral(sxy=67, srgb=3, rgbim=np.ascontiguousarray(image), compat=4)
    q = np.array(d.inference(10)).reshape(3, 20, 24)
    expected = np.array([0, 5, 9])[q.argmax(axis=0)]
    expected[q.max(axis=0) < 0.95] = 255
    refiner = ClipESCRFRefiner(crf=dict(type='DenseCRF'), confidence=0.95)
    labels = refiner.refine(torch.from_numpy(cams), [5, 9], image, None)
    np.testing.assert_array_equal(labels, expected)
    assert (expected == 255).any() and (expected == 5).any() and (expected == 9).any()
