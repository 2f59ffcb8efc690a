"""The last pseudo-label stage: seed CAMs (+ one cue) -> label map of one image.

A pseudo-label method is ``seeds -> [cue] -> refiner``: the seeds are the stored CAMs of
the image's classes; the cue, if the refiner names one in :attr:`BaseRefiner.cue`, is a
per-image map another network makes (``'saliency'``: an erasing saliency map;
``'boundary'``: IRNet's class boundaries), built from the config's ``<cue>_generator``
and stored by :mod:`wsss_mm.io`. ``tools/gen_pseudo.py`` runs the stages without
knowing the method; a config picks the refiner by ``refiner = dict(type=...)``.
"""
from abc import ABCMeta, abstractmethod
from typing import Optional, Sequence, Union

import numpy as np
from torch import Tensor

__all__ = ['BaseRefiner']


class BaseRefiner(metaclass=ABCMeta):
    """Seeds (+ a cue) -> pseudo label of one image, in the dataset's label values."""

    #: the cue this refiner reads besides the seeds (None: seeds only)
    cue: Optional[str] = None

    @abstractmethod
    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        """Pseudo label of one image.

        Args:
            cams: ``[K, H, W]`` seed CAMs in [0, 1] of the image's K classes (stored precision).
            class_ids: ``[K]`` their label values (the dataset's ``label_ids``).
            image: ``[H, W, 3]`` uint8 RGB image.
            cue: The stored cue map (:attr:`cue`), or None.

        Returns:
            ``[H, W]`` uint8: 0 background, ``class_ids`` values, 255 ignore.
        """
