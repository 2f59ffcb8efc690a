"""The IRN path against float64 transcriptions of jiwoon-ahn/irn (read for understanding, each
line written here): ``misc/indexing.py`` (PathIndex, propagate_to_edge), the post-processing of
``step/make_sem_seg_labels.py``, the pair set and loss of ``step/train_irn.py``, the
high-resolution CAM of ``step/make_cam.py`` (PIL bicubic scales, strided-up size) and the
padded inference of ``EdgeDisplacement``; the CAM family's max normalization and the seed
threshold against direct computations."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from tolerances import EPS32, assert_close_f32, network_terms
from torch import nn


@pytest.fixture(scope='module', autouse=True)
def registered():
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()


# ---------------------------------------------------------------- transcription of IRN's indexing
def irn_search_dirs(radius):
    """PathIndex.get_search_paths_dst: the offsets (y, x) of one half plane, |d| < radius."""
    dirs = [(0, x) for x in range(1, radius)]
    dirs += [(y, x) for y in range(1, radius) for x in range(-radius + 1, radius)
             if x * x + y * y < radius**2]
    return dirs


def irn_path_coords(dy, dx):
    """Grid points of the bounding box of (0, 0)-(dy, dx) at squared distance < 1 from it."""
    length_sq = dy**2 + dx**2
    return [(y, x) for y in range(min(0, dy), max(0, dy) + 1)
            for x in range(min(0, dx), max(0, dx) + 1) if (dy * x - dx * y)**2 / length_sq < 1]


def irn_pairs(size, radius):
    """PathIndex.get_path_indices on a grid ``size``: for every direction, the flat indices of
    the sources (IRN's band), of the destinations and of each path point."""
    height, width = size
    floor = radius - 1
    full = np.arange(height * width).reshape(height, width)
    crop_h, crop_w = height - floor, width - 2 * floor
    src = full[:crop_h, floor:floor + crop_w].ravel()
    out = []
    for dy, dx in irn_search_dirs(radius):
        path = [full[y:y + crop_h, floor + x:floor + x + crop_w].ravel()
                for y, x in irn_path_coords(dy, dx)]
        dst = full[dy:dy + crop_h, floor + dx:floor + dx + crop_w].ravel()
        out.append((dst, np.stack(path)))
    return src, out


def irn_propagate(cams, edge, radius=5, beta=10, exp_times=8):
    """propagate_to_edge in float64: the edge padded with 1 (left, right, bottom by radius),
    affinities 1 - max edge on each path, dense symmetric matrix with unit diagonal cropped back
    to the image, column-normalized a^beta squared exp_times times, ``x (1 - edge) T``."""
    num, height, width = cams.shape
    pad_h, pad_w = height + radius, width + 2 * radius
    padded = np.ones((pad_h, pad_w))
    padded[:height, radius:radius + width] = edge
    flat = padded.ravel()
    n = pad_h * pad_w
    dense = np.zeros((n, n))
    src, pairs = irn_pairs((pad_h, pad_w), radius)
    for dst, path in pairs:
        aff = 1 - flat[path].max(axis=0)
        dense[src, dst] += aff
        dense[dst, src] += aff
    dense[np.arange(n), np.arange(n)] += 1
    dense = dense.reshape(pad_h, pad_w, pad_h, pad_w)
    dense = dense[:-radius, radius:-radius, :-radius, radius:-radius].reshape(
        height * width, height * width)
    trans = dense**beta
    trans = trans / trans.sum(axis=0, keepdims=True)
    for _ in range(exp_times):
        trans = trans @ trans
    x = (cams * (1 - edge)).reshape(num, -1)
    return (x @ trans).reshape(num, height, width)


def irn_sem_seg_scores(cams, edge, orig_size, **walk):
    """make_sem_seg_labels: the walk upsampled x4 (bilinear), cropped to the image, divided by
    its maximum. Returns the [K, H, W] scores before the background 0.25 is stacked, and the
    scale of the walk's inputs relative to that maximum (float32 rounding errors of the walk
    are relative to its inputs)."""
    rw = torch.from_numpy(irn_propagate(cams, edge, **walk))[:, None]
    up = F.interpolate(rw, scale_factor=4, mode='bilinear', align_corners=False)
    up = up[:, 0, :orig_size[0], :orig_size[1]]
    return (up / up.max()).numpy(), float(np.abs(cams * (1 - edge)).max() / up.max())


def labels_with_margin(scores, keys, bg=0.25):
    """Label map (bg first, argmax) and each pixel's margin between its two best scores."""
    full = np.concatenate([np.full((1, *scores.shape[1:]), bg), scores])
    top2 = np.sort(full, axis=0)[-2:]
    return np.concatenate([[0], keys])[full.argmax(0)], top2[1] - top2[0]


def walk_atol(radius, exp_times, scale):
    """Rounding budget of 2^exp_times float32 steps, each a convex combination of the 2D + 1
    entries of a row (D half-plane offsets)."""
    return 2**exp_times * (2 * len(irn_search_dirs(radius)) + 1) * EPS32 * scale


def test_irn_transcription_agrees_with_irn_on_a_hand_case():
    # a 1 x 3 grid at radius 2: affinities 1 - max edge on the path; beta 1, one step
    edge = np.array([[0.0, 0.5, 0.0]])
    walked = irn_propagate(np.array([[[1.0, 0.0, 0.0]]]), edge, radius=2, beta=1, exp_times=0)
    # A = [[1, .5, 0], [.5, 1, .5], [0, .5, 1]] (pairs (0,1), (1,2); no pair at distance 2);
    # column sums 1.5, 2, 1.5; x (1 - edge) = [1, 0, 0] -> the first row of A over the sums
    np.testing.assert_allclose(walked[0, 0], [1 / 1.5, 0.5 / 2, 0.0], rtol=1e-15)


@pytest.mark.parametrize('orig_size', [(22, 38), (24, 40)])
def test_random_walk_end_to_end_equals_irn(orig_size):
    from wsss_mm.pseudo import RandomWalkRefiner
    gen = torch.Generator().manual_seed(3)
    grid = (math.ceil(orig_size[0] / 4), math.ceil(orig_size[1] / 4))
    # two walls split the grid into a region of class 4, one of class 11 and a background;
    # CAMs as IRN's strided CAMs (max-normalized), each strong in its own region
    edge = torch.rand(grid, generator=gen, dtype=torch.float64) * 0.3
    edge[:, 3] = edge[:, 7] = 0.95
    cams = torch.rand(2, *grid, generator=gen, dtype=torch.float64) * 0.1
    cams[0, :, :3] += 0.5 + 0.5 * torch.rand(grid[0], 3, generator=gen, dtype=torch.float64)
    cams[1, :, 4:7] += 0.3 + 0.5 * torch.rand(grid[0], 3, generator=gen, dtype=torch.float64)
    cams /= cams.amax(dim=(1, 2), keepdim=True)
    keys = np.array([4, 11])
    ref, scale = irn_sem_seg_scores(cams.numpy(), edge.numpy(), orig_size)

    refiner = RandomWalkRefiner(radius=5, beta=10, exp_times=8, bg_threshold=0.25, stride=4)
    got = refiner.scores(cams.float(), edge.float(), orig_size).double().numpy()
    atol = walk_atol(5, 8, scale)
    np.testing.assert_allclose(got, ref, rtol=0, atol=atol)
    labels = refiner(cams.float(), keys, edge.float(), out_size=orig_size).numpy()
    ref_labels, margin = labels_with_margin(ref, keys)
    sure = margin > 2 * atol
    assert sure.mean() > 0.95 and len(np.unique(ref_labels)) == 3
    np.testing.assert_array_equal(labels[sure], ref_labels[sure])


def test_irn_row_and_column_normalizations_agree_only_because_a_is_symmetric():
    # IRN's x T'^n with column-normalized T' equals wsss_mm's T^n x with row-normalized T
    from wsss_mm.pseudo import RandomWalkRefiner
    gen = torch.Generator().manual_seed(5)
    edge = torch.rand(5, 6, generator=gen, dtype=torch.float64) * 0.5
    cams = torch.rand(1, 5, 6, generator=gen, dtype=torch.float64)
    ref = irn_propagate(cams.numpy(), edge.numpy(), radius=3, beta=10, exp_times=3)
    got = RandomWalkRefiner(radius=3, exp_times=3).propagate(cams.float(), edge.float())
    np.testing.assert_allclose(got.double().numpy(), ref, rtol=0,
                               atol=walk_atol(3, 3, np.abs(ref).max()))


# ------------------------------------------------------------------ the affinity loss, IRN's pairs
def irn_affinity_loss(edge, labels, radius=10):
    """train_irn.py: edge -> affinities on IRN's path indices; GetAffinityLabelFromIndices
    (valid where both labels < 21); (bg/2 + fg/2 + neg) / 2 with means over labelled pairs."""
    src, pairs = irn_pairs(labels.shape, radius)
    flat_e, flat_l = edge.ravel(), labels.ravel()
    aff = np.stack([1 - flat_e[path].max(axis=0) for _, path in pairs])
    dst = np.stack([d for d, _ in pairs])
    lab_from, lab_to = flat_l[src][None], flat_l[dst]
    valid = (lab_from < 21) & (lab_to < 21)
    equal = lab_from == lab_to
    bg_pos = equal & valid & (lab_from == 0)
    fg_pos = equal & valid & (lab_from > 0)
    neg = ~equal & valid
    pos_loss, neg_loss = -np.log(aff + 1e-5), -np.log(1 + 1e-5 - aff)

    def mean(loss, mask):
        return (loss * mask).sum() / (mask.sum() + 1e-5)

    pos = mean(pos_loss, bg_pos) / 2 + mean(pos_loss, fg_pos) / 2
    return (pos + mean(neg_loss, neg)) / 2, int(bg_pos.sum() + fg_pos.sum() + neg.sum())


def test_affinity_loss_over_irns_pair_set():
    from wsss_mm.models.losses import AffinityLoss
    rng = np.random.default_rng(0)
    edge = rng.random((16, 24))
    labels = rng.choice([0, 0, 3, 7, 255], size=(16, 24))
    labels[:, :8] = 0  # a background region so that every kind of pair occurs
    ref, num_pairs = irn_affinity_loss(edge, labels)
    assert num_pairs > 0
    irn_band = AffinityLoss(radius=10, pair_band='irn')(torch.from_numpy(edge)[None],
                                                         torch.from_numpy(labels)[None])
    total = (irn_band['loss_aff_pos'] + irn_band['loss_aff_neg']).item()
    assert total == pytest.approx(ref, rel=1e-12)
    # every source of the grid (wsss_mm's other convention) is another pair set
    grid = AffinityLoss(radius=10, pair_band='grid')(torch.from_numpy(edge)[None],
                                                     torch.from_numpy(labels)[None])
    assert abs((grid['loss_aff_pos'] + grid['loss_aff_neg']).item() - ref) > 1e-3


def test_irn_band_is_the_pathindex_sources():
    from wsss_mm.pseudo.pixel_pairs import PixelPairs
    src, _ = irn_pairs((14, 23), 10)
    band = PixelPairs(10).irn_band(14, 23)
    np.testing.assert_array_equal(np.flatnonzero(band.numpy().ravel()), np.sort(src))


# ------------------------------------------------------------------------ IRN's CAM geometry
class TinyCAMNet(nn.Module):
    """conv (stride 4) -> ReLU -> conv (stride 4) -> GAP -> linear, with a preprocessor's
    mean / std (the attributes the CAM generator reads)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 5, stride=4, padding=2), nn.ReLU(),
                                      nn.Conv2d(6, 8, 3, stride=4, padding=1), nn.ReLU())
        self.fc = nn.Linear(8, 3, bias=False)
        self.data_preprocessor = nn.Module()
        self.data_preprocessor.register_buffer('mean', torch.tensor([120.0, 110, 100])[:, None,
                                                                                        None])
        self.data_preprocessor.register_buffer('std', torch.tensor([60.0, 55, 50])[:, None, None])

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


def irn_make_cam(model, image, classes, scales):
    """make_cam.py's high_res CAM in float64: per scale the uint8 image resized by PIL bicubic
    (pil_rescale), normalized, with its flip; CAM = ReLU(conv(features, fc)), flip un-done on
    the feature map, upsampled to the size rounded up to a multiple of 16, summed, cropped to
    H x W, divided by max + 1e-5."""
    height, width = image.shape[:2]
    up = (math.ceil(height / 16) * 16, math.ceil(width / 16) * 16)
    mean = model.data_preprocessor.mean.double()
    std = model.data_preprocessor.std.double()
    net = TinyCAMNet().double()
    net.load_state_dict(model.state_dict())
    total = 0
    for s in scales:
        img = image
        if s != 1:
            size = (int(np.round(width * s)), int(np.round(height * s)))
            img = np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC))
        x = (torch.from_numpy(img.astype(np.float64)).permute(2, 0, 1) - mean) / std
        feats = net.features(torch.stack([x, x.flip(-1)]))
        cam = F.relu(F.conv2d(feats, net.fc.weight[:, :, None, None]))
        cam = cam[0] + cam[1].flip(-1)
        total = total + F.interpolate(cam[:, None], size=up, mode='bilinear',
                                      align_corners=False)[:, 0]
    cam = total[classes, :height, :width]
    return cam / (cam.amax(dim=(1, 2), keepdim=True) + 1e-5)


@pytest.mark.parametrize('size', [(37, 45), (48, 33)])
def test_cam_geometry_equals_irn_make_cam(size):
    from wsss_mm.cam import CAMGenerator
    torch.manual_seed(0)
    model = TinyCAMNet()
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    image = np.asarray(Image.fromarray(image).resize((size[1] // 4, size[0] // 4)).resize(
        (size[1], size[0]), Image.BILINEAR))  # some structure for the maps
    classes = [0, 2]
    scales = (1.0, 0.5, 1.5, 2.0)
    with torch.no_grad():
        ref = irn_make_cam(model, image, classes, scales)
    x = ((torch.from_numpy(image).permute(2, 0, 1).float() - model.data_preprocessor.mean)
         / model.data_preprocessor.std)[None]
    labels = torch.tensor([[1.0, 0.0, 1.0]])
    irn = CAMGenerator(model, 'features', 'fc', scales=scales, flip=True,
                       scale_resize='pil_bicubic', upsample_divisor=16)
    got = irn(x, labels)[0, classes]
    # float32 network (every map a sum over 2 x 4 passes) + the 1e-5 IRN adds to each map's
    # maximum M before dividing (a difference of at most 1e-5 / M)
    atol = 8 * EPS32 * math.sqrt(network_terms(model) * 2 * len(scales))
    peak = float(irn.raw_maps(x, labels)[0, classes].amax(dim=(1, 2)).min())
    np.testing.assert_allclose(got.double().numpy(), ref.numpy(), rtol=0, atol=atol + 1e-5 / peak)
    # the former geometry (stretch to H x W, bilinear resize of the tensor) differs from IRN's
    plain = CAMGenerator(model, 'features', 'fc', scales=scales, flip=True)(x, labels)[0, classes]
    assert (plain.double() - ref).abs().max() > 100 * atol


def test_scale_resize_pil_bicubic_recovers_the_uint8_image():
    from wsss_mm.cam import CAMGenerator
    model = TinyCAMNet()
    image = np.random.default_rng(2).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    x = ((torch.from_numpy(image).permute(2, 0, 1).float() - model.data_preprocessor.mean)
         / model.data_preprocessor.std)[None]
    gen = CAMGenerator(model, 'features', 'fc', scale_resize='pil_bicubic')
    resized = gen.resize_inputs(x, (26, 9))
    pil = np.asarray(Image.fromarray(image).resize((9, 26), Image.BICUBIC)).astype(np.float32)
    expected = (torch.from_numpy(pil).permute(2, 0, 1) - model.data_preprocessor.mean) \
        / model.data_preprocessor.std
    assert_close_f32(resized[0], expected, terms=2)
    with pytest.raises(ValueError, match='data_preprocessor'):
        CAMGenerator(nn.Sequential(nn.Conv2d(3, 2, 1), nn.Flatten()), '0', '0',
                     scale_resize='pil_bicubic')


def test_cam_family_divides_by_the_maximum_not_min_max():
    """IRN (and CAM, Grad-CAM in WSSS) divide each map by its maximum; pytorch-grad-cam
    scales min-max. A map whose minimum is positive tells them apart."""
    from wsss_mm.cam import CAMGenerator, GradCAMGenerator
    model = TinyCAMNet()
    with torch.no_grad():  # positive features and weights: every CAM value > 0
        for m in model.features:
            if isinstance(m, nn.Conv2d):
                m.weight.abs_()
                m.bias.fill_(0.1)
        model.fc.weight.abs_()
    x = torch.rand(1, 3, 32, 40, generator=torch.Generator().manual_seed(0)) + 0.5
    labels = torch.tensor([[1.0, 1.0, 0.0]])
    for gen in (CAMGenerator(model, 'features', 'fc'), GradCAMGenerator(model, 'features')):
        raw = gen.raw_maps(x, labels).double()
        assert raw[0, :2].amin() > 0
        got = gen(x, labels).double()
        expected = raw / raw.amax(dim=(2, 3), keepdim=True).clamp(min=1e-300)
        expected[0, 2] = 0
        assert_close_f32(got, expected, terms=2)
        assert got[0, :2].amin() > 0.05  # min-max would put 0 at every map's minimum


def test_threshold_refiner_against_a_pixel_loop():
    from wsss_mm.pseudo import ThresholdRefiner
    rng = np.random.default_rng(4)
    cams = rng.random((3, 6, 7)).astype(np.float32)
    cams[:, 0, 0] = [0.15, 0.1, 0.05]  # a tie with the background goes to the background
    cams[:, 0, 1] = [0.2, 0.9, 0.9]    # a tie between classes goes to the first
    ids = np.array([2, 9, 14], np.uint8)
    expected = np.zeros((6, 7), np.uint8)
    for y in range(6):
        for x in range(7):
            best, label = 0.15, 0
            for k in range(3):
                if cams[k, y, x] > best:
                    best, label = cams[k, y, x], ids[k]
            expected[y, x] = label
    got = ThresholdRefiner(0.15).refine(torch.from_numpy(cams), ids, None, None)
    np.testing.assert_array_equal(got, expected)
    assert expected[0, 0] == 0 and expected[0, 1] == 9


# --------------------------------------------------------------------- IRNet's padded inference
def test_irnet_inference_pads_as_edge_displacement():
    from wsss_mm.models import IRNet
    torch.manual_seed(0)
    kwargs = dict(
        backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
                      strides=(1, 2, 2, 1), out_indices=(0, 1, 2, 3)),
        boundary_head=dict(type='ClassBoundaryHead', in_channels=(8, 8, 16, 32, 64),
                           scale_factors=(1, 1, 2, 4, 4), channels=8, num_groups=2),
        loss=dict(type='AffinityLoss', radius=3), freeze_backbone=False)
    padded = IRNet(test_pad_size=64, **kwargs).eval()
    plain = IRNet(**kwargs).eval()
    plain.load_state_dict(padded.state_dict())
    x = torch.randn(1, 3, 37, 45, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        # EdgeDisplacement: the image and its flip, each padded with 0 bottom / right to 64,
        # logits cropped to ceil(37/4) x ceil(45/4), averaged with the flip undone, sigmoid
        a = padded.boundary_logits(F.pad(x, (0, 64 - 45, 0, 64 - 37)))[0, 0, :10, :12]
        b = padded.boundary_logits(F.pad(x.flip(-1), (0, 64 - 45, 0, 64 - 37)))[0, 0, :10, :12]
        expected = torch.sigmoid((a + b.flip(-1)) / 2)
        got = padded.predict_boundary(x)[0]
        unpadded = plain.predict_boundary(x)[0]
    assert got.shape == unpadded.shape == (10, 12)
    assert_close_f32(got, expected, terms=network_terms(padded))
    # GroupNorm sees the padding: the unpadded prediction differs
    assert (unpadded - expected).abs().max() > 1e-3


# ---------------------------------------------------------------- IRN's crop padding (random_crop)
def test_random_place_pad_puts_the_image_at_every_offset_with_mean_fill():
    from mmseg.models import SegDataPreProcessor

    from wsss_mm.datasets.transforms import RandomPlacePad
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    seg = rng.integers(0, 3, (5, 7), dtype=np.uint8)
    mean_bgr = (103.53, 116.28, 123.675)
    pad = RandomPlacePad((8, 10), img_pad_val=mean_bgr, seg_pad_val=255)
    np.random.seed(0)
    offsets = set()
    for _ in range(300):
        out = pad(dict(img=img, gt_seg_map=seg))
        top, left = out['pad_offset']
        offsets.add((top, left))
        inside = np.zeros((8, 10), bool)
        inside[top:top + 5, left:left + 7] = True
        np.testing.assert_array_equal(out['img'][inside].reshape(5, 7, 3), img)
        np.testing.assert_array_equal(out['img'][~inside], np.float32(mean_bgr)[None].repeat(
            (~inside).sum(), 0))
        assert (out['gt_seg_map'][~inside] == 255).all()
        np.testing.assert_array_equal(out['gt_seg_map'][inside].reshape(5, 7), seg)
    assert offsets == {(t, l) for t in range(4) for l in range(4)}
    # the data preprocessor maps the fill to exactly 0, IRN's padding of the normalized image
    pre = SegDataPreProcessor(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                              bgr_to_rgb=True)
    x = pre(dict(inputs=[torch.from_numpy(out['img']).permute(2, 0, 1)]), False)['inputs'][0]
    assert (x[:, ~torch.from_numpy(inside)] == 0).all()
    with pytest.raises(ValueError, match='exceeds'):
        pad(dict(img=np.zeros((9, 3, 3), np.uint8)))
