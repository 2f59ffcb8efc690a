"""IRN's pixel pairs, boundary -> affinity and random walk against hand / dense references."""
import numpy as np
import pytest
import torch

from wsss_mm.pseudo.pixel_pairs import PixelPairs
from wsss_mm.pseudo.random_walk import RandomWalkRefiner

EPS32 = float(np.finfo(np.float32).eps)


def brute_force_path(p, q):
    """Grid pixels at Euclidean distance < 1 from the segment p-q (float geometry)."""
    (py, px), (qy, qx) = p, q
    dy, dx = qy - py, qx - px
    norm = np.hypot(dy, dx)
    return [(y, x) for y in range(min(py, qy), max(py, qy) + 1)
            for x in range(min(px, qx), max(px, qx) + 1)
            if abs(dy * (x - px) - dx * (y - py)) / norm < 1 - 1e-12]


def brute_force_pairs(height, width, radius):
    """Every unordered pair (p, q) of the grid with 0 < |q - p| < radius, q after p (raster)."""
    pixels = [(y, x) for y in range(height) for x in range(width)]
    return [(p, q) for i, p in enumerate(pixels) for q in pixels[i + 1:]
            if (q[0] - p[0])**2 + (q[1] - p[1])**2 < radius**2]


def test_offsets_and_paths_of_radius_2_by_hand():
    pairs = PixelPairs(2)
    assert pairs.offsets == [(0, 1), (1, -1), (1, 0), (1, 1)]
    assert sorted(pairs.paths[0]) == [(0, 0), (0, 1)]
    assert sorted(pairs.paths[1]) == [(0, -1), (0, 0), (1, -1), (1, 0)]
    assert sorted(pairs.paths[3]) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # radius 5 at stride 4 (IRN's random walk): 34 half-plane offsets, as counted by hand
    assert PixelPairs(5).num_offsets == 4 + 9 + 9 + 7 + 5


def test_boundary_to_affinity_hand_computed():
    boundary = torch.tensor([[0.0, 0.9, 0.1], [0.2, 0.0, 0.3], [0.4, 0.5, 0.6]])
    aff = PixelPairs(2).boundary_to_affinity(boundary)
    assert aff.shape == (4, 3, 3)
    expected = {  # (offset index, y, x) -> 1 - max boundary on the path, by hand
        (0, 0, 0): 1 - 0.9, (0, 1, 0): 1 - 0.2, (0, 1, 1): 1 - 0.3, (0, 0, 2): 0.0,
        (2, 0, 0): 1 - 0.2, (2, 1, 1): 1 - 0.5, (2, 2, 0): 0.0,
        (3, 0, 0): 1 - 0.9, (3, 1, 1): 1 - 0.6, (3, 0, 2): 0.0,
        (1, 0, 1): 1 - 0.9, (1, 1, 2): 1 - 0.6, (1, 0, 0): 0.0, (1, 1, 1): 1 - 0.5,
    }
    for (d, y, x), value in expected.items():
        assert aff[d, y, x].item() == pytest.approx(value, abs=4 * EPS32), (d, y, x)


def test_boundary_to_affinity_matches_brute_force_paths():
    gen = torch.Generator().manual_seed(0)
    boundary = torch.rand(7, 9, generator=gen, dtype=torch.float64)
    pairs = PixelPairs(4)
    aff = pairs.boundary_to_affinity(boundary)
    valid = pairs.valid(7, 9)
    found = 0
    for p, q in brute_force_pairs(7, 9, 4):
        d = pairs.offsets.index((q[0] - p[0], q[1] - p[1]))
        ref = 1 - max(boundary[y, x].item() for y, x in brute_force_path(p, q))
        assert valid[d, p[0], p[1]]
        assert aff[d, p[0], p[1]].item() == ref
        found += 1
    assert found == int(valid.sum())


def test_pair_labels_hand_made_map():
    labels = torch.tensor([[0, 0, 1, 255], [0, 1, 1, 2], [255, 2, 2, 2]])
    pairs = PixelPairs(3)
    bg_pos, fg_pos, neg = pairs.pair_labels(labels)
    counts = dict(bg=0, fg=0, neg=0)
    for p, q in brute_force_pairs(3, 4, 3):
        d = pairs.offsets.index((q[0] - p[0], q[1] - p[1]))
        a, b = labels[p].item(), labels[q].item()
        kind = None if 255 in (a, b) else ('neg' if a != b else ('bg' if a == 0 else 'fg'))
        got = [bg_pos[d][p].item(), fg_pos[d][p].item(), neg[d][p].item()]
        assert got == [kind == 'bg', kind == 'fg', kind == 'neg'], (p, q)
        if kind:
            counts[kind] += 1
    assert (int(bg_pos.sum()), int(fg_pos.sum()), int(neg.sum())) == (
        counts['bg'], counts['fg'], counts['neg'])


def dense_transition_float64(boundary, radius, beta):
    """Row-normalized ``a^beta`` (with self loops) over all pairs, formed densely in float64."""
    height, width = boundary.shape
    index = lambda y, x: y * width + x  # noqa: E731
    affinity = np.eye(height * width)
    for p, q in brute_force_pairs(height, width, radius):
        a = 1 - max(boundary[y, x] for y, x in brute_force_path(p, q))
        affinity[index(*p), index(*q)] = affinity[index(*q), index(*p)] = a**beta
    return affinity / affinity.sum(axis=1, keepdims=True)


@pytest.mark.parametrize('exp_times, height, width', [(3, 6, 7), (8, 6, 7), (8, 7, 2)])
def test_random_walk_equals_dense_matrix_power(exp_times, height, width):
    gen = torch.Generator().manual_seed(1)
    radius, beta = 3, 10.0
    boundary = torch.rand(height, width, generator=gen) * 0.6
    cams = torch.rand(2, height, width, generator=gen)
    refiner = RandomWalkRefiner(radius=radius, beta=beta, exp_times=exp_times)

    ref_t = dense_transition_float64(boundary.double().numpy(), radius, beta)
    sparse = refiner.transition_matrix(boundary)
    with torch.sparse.check_sparse_tensor_invariants():  # sorted, unique columns per row
        torch.sparse_csr_tensor(sparse.crow_indices(), sparse.col_indices(), sparse.values(),
                                sparse.shape)
    transition = sparse.to_dense()
    row_nnz = 2 * refiner.pairs.num_offsets + 1
    # a^beta in float32 has relative error ~ beta * eps; a row sums row_nnz terms
    assert np.allclose(transition.double().numpy(), ref_t, rtol=(beta + row_nnz) * EPS32,
                       atol=row_nnz * EPS32 * ref_t.max())
    assert torch.allclose(transition.double().sum(dim=1), torch.ones(height * width,
                                                                     dtype=torch.float64),
                          atol=row_nnz * EPS32)

    steps = 2**exp_times
    x = (cams.double() * (1 - boundary.double())).reshape(2, -1).numpy()
    ref = (np.linalg.matrix_power(ref_t, steps) @ x.T).T.reshape(2, height, width)
    walked = refiner.propagate(cams, boundary)
    # each step is a convex combination of row_nnz float32 terms: error <= steps * row_nnz * eps
    atol = steps * row_nnz * EPS32 * np.abs(x).max()
    assert np.allclose(walked.double().numpy(), ref, rtol=0, atol=atol)


def test_random_walk_stops_at_a_boundary_wall():
    height, width = 8, 12
    boundary = torch.zeros(height, width)
    boundary[:, 6] = 1.0  # a closed class boundary between columns 0-5 and 7-11
    cams = torch.zeros(1, height, width)
    cams[0, 3, 1] = 1.0  # a single seed on the left
    refiner = RandomWalkRefiner(radius=5, beta=10, exp_times=8, bg_threshold=0.25, stride=4)
    walked = refiner.propagate(cams, boundary)
    assert walked[0, :, 7:].abs().max() == 0  # nothing crosses the wall
    assert walked[0, :, :6].min() > 0.5 * walked[0, :, :6].max()  # the left side is filled
    labels = refiner(cams, [15], boundary)
    assert labels.shape == (height * 4, width * 4)
    assert (labels[:, :6 * 4 - 2] == 15).all()
    assert (labels[:, 7 * 4:] == 0).all()


def test_refiner_input_checks_and_empty_image():
    refiner = RandomWalkRefiner(radius=3, exp_times=1)
    boundary = torch.zeros(4, 5)
    assert (refiner(torch.zeros(0, 4, 5), [], boundary, out_size=(16, 20)) == 0).all()
    with pytest.raises(ValueError, match='class_ids'):
        refiner(torch.zeros(2, 4, 5), [1], boundary)
    with pytest.raises(ValueError, match='does not cover'):
        refiner(torch.rand(1, 4, 5), [1], boundary, out_size=(17, 20))
