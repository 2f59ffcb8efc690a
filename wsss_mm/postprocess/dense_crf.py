"""Fully connected CRF refinement (Krähenbühl & Koltun 2011) with named parameter presets."""
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import pydensecrf.densecrf as dcrf
from mmengine.utils import track_parallel_progress, track_progress
from pydensecrf.utils import unary_from_softmax

from wsss_mm.registry import POSTPROCESSORS

__all__ = ['CRF_PRESETS', 'DenseCRF', 'apply_crf_parallel']


# Named parameter sets. The paper says "default parameters provided in [21]" (Krähenbühl &
# Koltun's code); which set its Table 1 used is unknown. 'deeplab' is DeepLab-v2's
# (deeplab-pytorch configs/voc12.yaml), this toolbox's default.
CRF_PRESETS = {
    'deeplab': dict(iterations=10, gaussian_sxy=1.0, gaussian_compat=3.0, bilateral_sxy=67.0,
                    bilateral_srgb=3.0, bilateral_compat=4.0),
    'krahenbuhl2011': dict(iterations=5, gaussian_sxy=3.0, gaussian_compat=3.0,
                           bilateral_sxy=80.0, bilateral_srgb=13.0, bilateral_compat=10.0),
}


@POSTPROCESSORS.register_module()
class DenseCRF:
    """Mean-field dense CRF over an image and its class probabilities.

    The unary is ``-log p`` (probabilities clipped to ``[prob_clip, 1]``); the
    pairwise terms are a Gaussian smoothness kernel on positions and a
    bilateral appearance kernel on positions and colours. The parameters come
    from a named preset (:data:`CRF_PRESETS`), each of which may be overridden:
    ``'deeplab'`` (default; DeepLab-v2's, 10 iterations, Gaussian 1/3,
    bilateral 67/3/4) or ``'krahenbuhl2011'`` (the defaults of Krähenbühl &
    Koltun's code, which the paper cites: 5 iterations, Gaussian 3/3,
    bilateral 80/13/10). The colour kernel is isotropic, so RGB and BGR images
    give the same result.

    Args:
        preset (str): Name of the parameter set. Defaults to ``'deeplab'``.
        iterations (int, optional): Mean-field iterations.
        gaussian_sxy (float, optional): Spatial std of the smoothness kernel.
        gaussian_compat (float, optional): Weight of the smoothness kernel.
        bilateral_sxy (float, optional): Spatial std of the appearance kernel.
        bilateral_srgb (float, optional): Colour std of the appearance kernel.
        bilateral_compat (float, optional): Weight of the appearance kernel.
        prob_clip (float): Lower clip of the probabilities before the log.
            Defaults to 1e-5 (pydensecrf's).

    Every parameter left ``None`` takes the preset's value.
    """

    def __init__(self,
                 preset: str = 'deeplab',
                 iterations: Optional[int] = None,
                 gaussian_sxy: Optional[float] = None,
                 gaussian_compat: Optional[float] = None,
                 bilateral_sxy: Optional[float] = None,
                 bilateral_srgb: Optional[float] = None,
                 bilateral_compat: Optional[float] = None,
                 prob_clip: float = 1e-5) -> None:
        if preset not in CRF_PRESETS:
            raise ValueError(f'unknown CRF preset {preset!r}; choose from {sorted(CRF_PRESETS)}')
        given = dict(iterations=iterations, gaussian_sxy=gaussian_sxy,
                     gaussian_compat=gaussian_compat, bilateral_sxy=bilateral_sxy,
                     bilateral_srgb=bilateral_srgb, bilateral_compat=bilateral_compat)
        params = {key: CRF_PRESETS[preset][key] if value is None else value
                  for key, value in given.items()}
        if params['iterations'] < 1:
            raise ValueError(f"iterations must be positive, got {params['iterations']}")
        self.preset = preset
        self.iterations = int(params['iterations'])
        self.gaussian_sxy = float(params['gaussian_sxy'])
        self.gaussian_compat = float(params['gaussian_compat'])
        self.bilateral_sxy = float(params['bilateral_sxy'])
        self.bilateral_srgb = float(params['bilateral_srgb'])
        self.bilateral_compat = float(params['bilateral_compat'])
        self.prob_clip = prob_clip

    def __call__(self, image: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Refine ``probs``.

        Args:
            image (np.ndarray): uint8 image, H×W×3.
            probs (np.ndarray): Class probabilities (e.g. a softmax), C×H×W.

        Returns:
            np.ndarray: float32 C×H×W marginals after mean-field inference.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f'image must be a uint8 H×W×3 array, got {image.dtype} of shape {image.shape}')
        if probs.ndim != 3 or probs.shape[1:] != image.shape[:2]:
            raise ValueError(f'probs must be C×H×W matching image {image.shape}, '
                             f'got shape {probs.shape}')
        num_classes, height, width = probs.shape
        crf = dcrf.DenseCRF2D(width, height, num_classes)
        crf.setUnaryEnergy(np.ascontiguousarray(
            unary_from_softmax(probs, clip=self.prob_clip)))
        crf.addPairwiseGaussian(sxy=self.gaussian_sxy, compat=self.gaussian_compat)
        crf.addPairwiseBilateral(
            sxy=self.bilateral_sxy,
            srgb=self.bilateral_srgb,
            # pydensecrf needs a writable C-contiguous buffer (PIL / mmap arrays are read-only)
            rgbim=np.require(image, np.uint8, ['C', 'W']),
            compat=self.bilateral_compat)
        marginals = crf.inference(self.iterations)
        return np.asarray(marginals, dtype=np.float32).reshape(num_classes, height, width)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(preset={self.preset!r}, iterations={self.iterations}, '
                f'gaussian_sxy={self.gaussian_sxy}, gaussian_compat={self.gaussian_compat}, '
                f'bilateral_sxy={self.bilateral_sxy}, bilateral_srgb={self.bilateral_srgb}, '
                f'bilateral_compat={self.bilateral_compat}, prob_clip={self.prob_clip})')


def _refine(task: Tuple[DenseCRF, np.ndarray, np.ndarray, bool]) -> np.ndarray:
    """Run one CRF task in a worker; returns marginals or, if asked, a label map."""
    crf, image, probs, to_labels = task
    refined = crf(image, probs)
    if not to_labels:
        return refined
    return refined.argmax(axis=0).astype(np.min_scalar_type(refined.shape[0] - 1))


def apply_crf_parallel(crf: DenseCRF,
                       items: Union[Sequence[Tuple[np.ndarray, np.ndarray]],
                                    Iterable[Tuple[np.ndarray, np.ndarray]]],
                       nproc: int = 1,
                       total: Optional[int] = None,
                       to_labels: bool = False) -> List[np.ndarray]:
    """Apply ``crf`` to many ``(image, probs)`` pairs with a progress bar.

    Args:
        crf (DenseCRF): The CRF to apply (pickled into the workers).
        items: ``(image H×W×3 uint8, probs C×H×W)`` pairs; a sequence, or any
            iterable (e.g. a generator that loads lazily) when ``total`` is given.
        nproc (int): Worker processes; 1 runs in this process. Defaults to 1.
        total (int, optional): Number of items when ``items`` has no ``len``.
        to_labels (bool): Return H×W argmax label maps (uint8 up to 256
            classes) instead of C×H×W marginals, which keeps memory small on large
            sets. Defaults to False.

    Returns:
        list[np.ndarray]: One result per item, in order.
    """
    if total is None:
        if not isinstance(items, Sequence):
            raise ValueError('items without len() need total=')
        total = len(items)
    tasks = ((crf, image, probs, to_labels) for image, probs in items)
    if nproc <= 1:
        return track_progress(_refine, (tasks, total))
    return track_parallel_progress(_refine, (tasks, total), nproc)
