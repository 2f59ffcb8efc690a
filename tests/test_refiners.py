"""Refiners of the pseudo-label stage against independent computations: thresholded seeds
against the evaluation's cams_to_label, CRF-refined seeds against pydensecrf called here,
and DenseCRF on read-only images."""
import numpy as np
import pytest
import torch


def _seeds(seed=0, size=(12, 16)):
    rng = np.random.default_rng(seed)
    cams = torch.from_numpy(rng.random((2, *size)).astype(np.float16).astype(np.float32))
    image = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
    return cams, np.array([5, 17], np.uint8), image


def test_registry_builds_every_refiner_with_its_cue():
    from wsss_mm.registry import REFINERS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cues = {'ThresholdRefiner': None, 'CRFRefiner': None, 'SaliencyFusionRefiner': 'saliency',
            'RandomWalkRefiner': 'boundary'}
    for name, cue in cues.items():
        extra = dict(crf=dict(type='DenseCRF')) if name == 'CRFRefiner' else {}
        assert REFINERS.build(dict(type=name, **extra)).cue == cue


def test_threshold_refiner_equals_cams_to_label():
    from wsss_mm.evaluation.segmentation_scores import cams_to_label
    from wsss_mm.pseudo import ThresholdRefiner
    cams, class_ids, image = _seeds()
    cams[:, 0, 0] = 0.15  # a tie with the threshold goes to the background
    labels = ThresholdRefiner(0.15).refine(cams, class_ids, image, None)
    expected = cams_to_label(cams, torch.from_numpy(class_ids.astype(np.int64)), 0.15)
    np.testing.assert_array_equal(labels, expected.numpy())
    assert labels.dtype == np.uint8 and labels[0, 0] == 0


def test_crf_refiner_equals_pydensecrf_on_normalized_seed_scores():
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax

    from wsss_mm.postprocess import DenseCRF
    from wsss_mm.pseudo import CRFRefiner
    cams, class_ids, image = _seeds(1)
    labels = CRFRefiner(DenseCRF(), bg_threshold=0.2).refine(cams, class_ids, image, None)
    scores = np.concatenate([np.full((1, 12, 16), 0.2), cams.double().numpy()])
    probs = (scores / scores.sum(0, keepdims=True)).astype(np.float32)
    crf = dcrf.DenseCRF2D(16, 12, 3)
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs, clip=1e-5)))
    crf.addPairwiseGaussian(sxy=1, compat=3)
    crf.addPairwiseBilateral(sxy=67, srgb=3, rgbim=image.copy(), compat=4)
    marginals = np.asarray(crf.inference(10)).reshape(3, 12, 16)
    np.testing.assert_array_equal(labels, np.array([0, 5, 17])[marginals.argmax(0)])


@pytest.mark.parametrize('alpha', [4.0, 32.0])
def test_crf_refiner_psa_convention_equals_pydensecrf(alpha):
    """PSA's _crf_with_alpha: bg = (1 - max CAM)^alpha, [bg, CAMs] unnormalized into
    unary_from_softmax, Gaussian 3/3, bilateral 80/13/10, 10 iterations."""
    import pydensecrf.densecrf as dcrf
    from mmengine.config import Config
    from pydensecrf.utils import unary_from_softmax

    from conftest import REPO
    from wsss_mm.registry import REFINERS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cams, class_ids, image = _seeds(5)
    cams = cams * 0.9  # (1 - max)^alpha stays above pydensecrf's clip somewhere
    cfg = Config.fromfile(f'{REPO}/configs/irn/pseudo_r50-cam-crf-psa_voc12aug.py')
    refiner = REFINERS.build(dict(cfg.refiner, alpha=alpha))
    labels = refiner.refine(cams, class_ids, image, None)
    v = cams.double().numpy()
    scores = np.concatenate([(1 - v.max(0, keepdims=True))**alpha, v]).astype(np.float32)
    crf = dcrf.DenseCRF2D(16, 12, 3)
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(scores)))
    crf.addPairwiseGaussian(sxy=3, compat=3)
    crf.addPairwiseBilateral(sxy=80, srgb=13, rgbim=image.copy(), compat=10)
    marginals = np.asarray(crf.inference(10)).reshape(3, 12, 16)
    expected = np.array([0, 5, 17])[marginals.argmax(0)]
    np.testing.assert_array_equal(labels, expected)
    # a case with both background and foreground
    assert (expected == 0).any() and (expected != 0).any()


def test_crf_refiner_without_pairwise_terms_keeps_the_seeds():
    from wsss_mm.postprocess import DenseCRF
    from wsss_mm.pseudo import CRFRefiner, ThresholdRefiner
    cams, class_ids, image = _seeds(2)
    # the background score is never tied with a CAM: float16 CAMs are not 0.15 exactly
    flat = DenseCRF(gaussian_compat=0, bilateral_compat=0)
    np.testing.assert_array_equal(CRFRefiner(flat).refine(cams, class_ids, image, None),
                                  ThresholdRefiner().refine(cams, class_ids, image, None))


def test_dense_crf_accepts_read_only_images():
    from wsss_mm.postprocess import DenseCRF
    _, _, image = _seeds(3)
    probs = np.random.default_rng(3).dirichlet(np.ones(3), size=(12, 16)).transpose(2, 0, 1)
    probs = probs.astype(np.float32)
    frozen = image.copy()
    frozen.setflags(write=False)
    strided = np.ascontiguousarray(image[:, ::-1])[:, ::-1]  # a negative-stride view
    crf = DenseCRF()
    reference = crf(image, probs)
    np.testing.assert_array_equal(crf(frozen, probs), reference)
    np.testing.assert_array_equal(crf(strided, probs), reference)


def test_saliency_fusion_refiner_needs_its_cue():
    from wsss_mm.io import InputError
    from wsss_mm.pseudo import SaliencyFusionRefiner
    cams, class_ids, image = _seeds()
    with pytest.raises(InputError, match='saliency size'):
        SaliencyFusionRefiner().refine(cams, class_ids, image, np.zeros((3, 3), np.uint8))
    empty = SaliencyFusionRefiner().refine(cams[:0], class_ids[:0], image,
                                           np.full((12, 16), 255, np.uint8))
    assert not empty.any()
