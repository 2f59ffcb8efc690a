"""DenseCRF against direct pydensecrf calls."""
import numpy as np
import pydensecrf.densecrf as dcrf
import pytest

from tolerances import f32_atol
from wsss_mm.postprocess import DenseCRF, apply_crf_parallel
from wsss_mm.registry import POSTPROCESSORS


def _two_region_case(seed=0, height=24, width=30, noise=0.35):
    """Image with a dark left and a bright right half; noisy 2-class probabilities."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    image[:, width // 2:] = 200
    image = np.clip(image.astype(int) + rng.integers(-5, 6, image.shape), 0, 255).astype(np.uint8)
    truth = np.zeros((height, width), int)
    truth[:, width // 2:] = 1
    p1 = np.where(truth == 1, 0.6, 0.4) + rng.uniform(-noise, noise, (height, width))
    p1 = np.clip(p1, 0.01, 0.99)
    probs = np.stack([1 - p1, p1]).astype(np.float32)
    return image, probs, truth


def _direct(image, probs, iterations, g_sxy, g_compat, b_sxy, b_srgb, b_compat, clip=1e-5):
    num_classes, height, width = probs.shape
    unary = -np.log(np.clip(probs, clip, 1.0)).reshape(num_classes, -1).astype(np.float32)
    crf = dcrf.DenseCRF2D(width, height, num_classes)
    crf.setUnaryEnergy(np.ascontiguousarray(unary))
    crf.addPairwiseGaussian(sxy=g_sxy, compat=g_compat)
    crf.addPairwiseBilateral(sxy=b_sxy, srgb=b_srgb, rgbim=np.ascontiguousarray(image),
                             compat=b_compat)
    return np.array(crf.inference(iterations)).reshape(num_classes, height, width)


def test_defaults_equal_direct_pydensecrf_with_deeplab_parameters():
    image, probs, _ = _two_region_case()
    out = DenseCRF()(image, probs)
    ref = _direct(image, probs, 10, 1, 3, 67, 3, 4)
    assert out.shape == probs.shape and out.dtype == np.float32
    assert np.array_equal(out, ref)


def test_custom_parameters_are_used():
    image, probs, _ = _two_region_case(seed=1)
    crf = POSTPROCESSORS.build(dict(
        type='DenseCRF', iterations=3, gaussian_sxy=2.0, gaussian_compat=1.0,
        bilateral_sxy=20.0, bilateral_srgb=10.0, bilateral_compat=6.0, prob_clip=1e-3))
    out = crf(image, probs)
    assert np.array_equal(out, _direct(image, probs, 3, 2.0, 1.0, 20.0, 10.0, 6.0, clip=1e-3))
    assert not np.array_equal(out, DenseCRF()(image, probs))


def test_refinement_is_a_distribution_and_cleans_noise():
    image, probs, truth = _two_region_case(seed=2, noise=0.45)
    out = DenseCRF()(image, probs)
    # marginals normalized in float32: a sum of C values of at most 1
    np.testing.assert_allclose(out.sum(axis=0), 1.0, rtol=0, atol=f32_atol(1.0, probs.shape[0]))
    errors_before = (probs.argmax(0) != truth).sum()
    errors_after = (out.argmax(0) != truth).sum()
    assert errors_before > 0 and errors_after < errors_before // 4


def test_input_validation_names_shapes():
    image, probs, _ = _two_region_case()
    with pytest.raises(ValueError, match=r'\(24, 30, 3\).*\(2, 24, 29\)'):
        DenseCRF()(image, probs[:, :, :29])
    with pytest.raises(ValueError, match='uint8'):
        DenseCRF()(image.astype(np.float32), probs)
    with pytest.raises(ValueError, match=r'\(24, 30\)'):
        DenseCRF()(image[..., 0], probs)
    with pytest.raises(ValueError):
        DenseCRF(iterations=0)


def test_parallel_matches_sequential_and_labels():
    cases = [_two_region_case(seed=s)[:2] for s in range(3)]
    crf = DenseCRF(iterations=5)
    expected = [crf(image, probs) for image, probs in cases]
    parallel = apply_crf_parallel(crf, cases, nproc=2)
    assert all(np.array_equal(a, b) for a, b in zip(parallel, expected))
    labels = apply_crf_parallel(crf, iter(cases), nproc=1, total=3, to_labels=True)
    assert all(lab.dtype == np.uint8 and np.array_equal(lab, e.argmax(0))
               for lab, e in zip(labels, expected))
    with pytest.raises(ValueError, match='total'):
        apply_crf_parallel(crf, iter(cases))


def test_krahenbuhl_preset_is_the_reference_code_defaults():
    """The paper's "default parameters provided in [21]": Krähenbühl & Koltun's example code
    (5 iterations, Gaussian sxy 3 / compat 3, bilateral sxy 80 / srgb 13 / compat 10)."""
    image, probs, _ = _two_region_case(seed=3)
    crf = POSTPROCESSORS.build(dict(type='DenseCRF', preset='krahenbuhl2011'))
    assert np.array_equal(crf(image, probs), _direct(image, probs, 5, 3, 3, 80, 13, 10))
    assert np.array_equal(DenseCRF(preset='deeplab')(image, probs),
                          _direct(image, probs, 10, 1, 3, 67, 3, 4))
    # a preset value can be overridden one by one
    assert np.array_equal(DenseCRF(preset='krahenbuhl2011', iterations=2)(image, probs),
                          _direct(image, probs, 2, 3, 3, 80, 13, 10))
    with pytest.raises(ValueError, match="'dense'"):
        DenseCRF(preset='dense')
