"""The pseudo-label stages of one image: seeds (CAMs) -> [cue] -> refiner.

The pipeline holds the built components and works on the data samples of a
registered dataset (``dict(inputs=[3, H, W] uint8 BGR, data_samples=SegDataSample
with gt_label)``, as :class:`~wsss_mm.datasets.PackMultiLabelInputs` packs them);
:mod:`tools.gen_pseudo` drives it over a split and :mod:`wsss_mm.io` stores the
results. The refiner (:class:`~wsss_mm.pseudo.BaseRefiner`) names the cue it reads
(``refiner.cue``); its generator comes from the config key ``<cue>_generator``
(:data:`CUE_NETWORKS`). Every network sees its inputs through its own data
preprocessor, as at training time. Class ids are the dataset's label values
(``metainfo['label_ids']``).
"""
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

from wsss_mm.cam import normalize_maps
from wsss_mm.io import InputError, quantize_cams
from wsss_mm.registry import CAM_GENERATORS, MODELS, REFINERS, SALIENCY_GENERATORS

__all__ = [
    'PseudoLabelPipeline', 'DEFAULT_SALIENCY_PREPROCESSOR', 'CUE_NETWORKS', 'CAM_MAX_SIDE',
    'seeds_cue', 'refine_seeds'
]

#: Default cap (pixels) on the long side of the CAM network input (see ``cam_max_side``).
CAM_MAX_SIDE = 1024

#: Input normalization of the saliency detectors (ImageNet RGB statistics on 0..255).
DEFAULT_SALIENCY_PREPROCESSOR = dict(type='ImgDataPreprocessor',
                                     mean=[123.675, 116.28, 103.53],
                                     std=[58.395, 57.12, 57.375],
                                     bgr_to_rgb=True)


def _saliency_network(cfg: Config) -> Tuple[nn.Module, nn.Module, Callable, nn.Module]:
    """Erasing saliency: (generator, preprocessor, [1, 3, H, W] -> [H, W], checkpoint target)."""
    generator = SALIENCY_GENERATORS.build(cfg.saliency_generator)
    preprocessor = MODELS.build(cfg.get('saliency_preprocessor', DEFAULT_SALIENCY_PREPROCESSOR))
    return generator, preprocessor, lambda x: generator(x)[0], generator.detector


def _boundary_network(cfg: Config) -> Tuple[nn.Module, nn.Module, Callable, nn.Module]:
    """IRNet's class boundaries (h-flip averaged), [1, 3, H, W] -> [ceil(H/4), ceil(W/4)]."""
    irnet = MODELS.build(cfg.boundary_generator)
    return irnet, irnet.data_preprocessor, lambda x: irnet.predict_boundary(x)[0], irnet


#: cue name -> builder of its network from the config key ``<cue>_generator``
CUE_NETWORKS = {'saliency': _saliency_network, 'boundary': _boundary_network}


def seeds_cue(cfg: Config, cue: Optional[str]) -> Optional[str]:
    """``cue`` (the refiner's) when the seeds' generator makes it in its own forward
    (``cam_generator.cue``, e.g. CLIP-ES's attention affinity), else None."""
    generator = cfg.cam_generator['type']
    generator = CAM_GENERATORS.get(generator) if isinstance(generator, str) else generator
    return cue if cue is not None and getattr(generator, 'cue', None) == cue else None


class PseudoLabelPipeline:
    """Seeds (CAMs of the classifier), the refiner's cue and the refinement of one image.

    Args:
        classifier: Multi-label classifier; ``classifier(x)`` gives class scores
            and its ``data_preprocessor`` prepares its inputs.
        cam_generator: A :class:`~wsss_mm.cam.BaseCAMGenerator` over ``classifier``.
        refiner: A :class:`~wsss_mm.pseudo.BaseRefiner`.
        label_ids: The dataset's label value of each classifier output.
        cue_network: ``[1, 3, H, W]`` network input -> ``[h, w]`` cue map in [0, 1]
            (with ``refiner.cue``; e.g. erasing saliency, IRNet boundaries); or
            ``cam_generator`` itself when its forward gives the cue (``cam_generator.cue``,
            e.g. CLIP-ES's attention affinity: ``cam_generator.cue_of(image, labels)``).
        cue_preprocessor: Data preprocessor of the cue network's inputs.
        cue_batch_network: Optional: a list of ``[1, 3, H_i, W_i]`` inputs -> their
            ``[h_i, w_i]`` maps, equal to ``cue_network`` on each, in batches
            (:meth:`cues`; e.g. erasing saliency with a fixed-size detector).
        cam_input_size: Long side (pixels) the classifier's input is resized to for
            the CAMs, which are then resized back bilinearly and renormalized; None
            (default) computes them on the original image.
        cam_max_side: Cap on that long side (default :data:`CAM_MAX_SIDE`, 1024): a
            larger image (or ``cam_input_size``) gets its CAMs computed at this long
            side and resized back, bounding memory (a 9000×9000 image took 15 GB at
            full size); :attr:`capped` lists the ids of the images it applied to.
            None: no cap.
        device: Where the networks run.
    """

    def __init__(self,
                 classifier: nn.Module,
                 cam_generator,
                 refiner,
                 label_ids: Sequence[int],
                 cue_network: Optional[Callable] = None,
                 cue_preprocessor: Optional[nn.Module] = None,
                 cue_batch_network: Optional[Callable] = None,
                 cam_input_size: Optional[int] = None,
                 cam_max_side: Optional[int] = CAM_MAX_SIDE,
                 device: str = 'cpu') -> None:
        self.device = torch.device(device)
        self.classifier = classifier.to(self.device).eval()
        self.cam_generator = cam_generator
        self.refiner = refiner
        self.label_ids = tuple(int(v) for v in label_ids)
        if refiner.cue is not None and (cue_network is None or cue_preprocessor is None):
            raise ValueError(f'{type(refiner).__name__} reads the {refiner.cue!r} cue: give '
                             f'its cue_network and cue_preprocessor')
        self.cue_network = cue_network
        self.cue_batch_network = cue_batch_network
        self.cue_preprocessor = (None if cue_preprocessor is None else
                                 cue_preprocessor.to(self.device))
        for name, size in (('cam_input_size', cam_input_size), ('cam_max_side', cam_max_side)):
            if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                     or size < 1):
                raise ValueError(f'{name} must be a positive int (pixels) or None, got {size!r}')
        self.cam_input_size = cam_input_size
        self.cam_max_side = cam_max_side
        #: ids of the images whose CAMs were computed at ``cam_max_side``
        self.capped: List[str] = []

    @classmethod
    def from_config(cls, cfg: Config, classifier_checkpoint: Optional[str],
                    label_ids: Sequence[int], cue_checkpoint: Optional[str] = None,
                    device: str = 'cpu') -> 'PseudoLabelPipeline':
        """Build from a config with ``model`` (the classifier), ``cam_generator``,
        ``refiner``, the generator of the refiner's cue (``<cue>_generator``, e.g.
        ``saliency_generator`` with an optional ``saliency_preprocessor``, or
        ``boundary_generator``: an IRNet) and optionally ``cam_input_size``.
        ``cue_checkpoint`` is loaded strictly into the cue's network (the saliency
        detector, IRNet); without it the network's ``init_cfg`` initializes it."""
        classifier = MODELS.build(cfg.model)
        if classifier_checkpoint and hasattr(classifier, 'load_released_weights'):
            classifier.load_released_weights(classifier_checkpoint)  # e.g. OpenAI's CLIP files
        elif classifier_checkpoint:
            load_checkpoint(classifier, classifier_checkpoint, map_location='cpu', strict=True)
        else:
            classifier.init_weights()
        classifier.to(device)
        cam_generator = CAM_GENERATORS.build(cfg.cam_generator,
                                             default_args=dict(model=classifier))
        refiner = REFINERS.build(cfg.refiner)
        cue_network = preprocessor = batch_network = None
        if seeds_cue(cfg, refiner.cue):
            # the seeds' own forward gives the cue (CLIP-ES's attention affinity)
            if cue_checkpoint:
                raise ValueError(f'the {refiner.cue!r} cue comes from the classifier: no cue '
                                 f'checkpoint')
            cue_network, preprocessor = cam_generator, classifier.data_preprocessor
        elif refiner.cue is not None:
            key = f'{refiner.cue}_generator'
            if key not in cfg:
                raise KeyError(f'{type(refiner).__name__} reads the {refiner.cue!r} cue but '
                               f'the config has no {key!r}')
            module, preprocessor, cue_network, target = CUE_NETWORKS[refiner.cue](cfg)
            if cue_checkpoint:
                load_checkpoint(target, cue_checkpoint, map_location='cpu', strict=True)
            elif refiner.cue != 'saliency':  # the saliency generator initializes its detector
                target.init_weights()
            module.to(device).eval()
            if getattr(module, 'batches_across_sizes', False):
                batch_network = module.forward_many
        elif cue_checkpoint:
            raise ValueError(f'a cue checkpoint was given but {type(refiner).__name__} reads '
                             f'no cue')
        return cls(classifier, cam_generator, refiner, label_ids, cue_network=cue_network,
                   cue_preprocessor=preprocessor, cue_batch_network=batch_network,
                   cam_input_size=cfg.get('cam_input_size'),
                   cam_max_side=cfg.get('cam_max_side', CAM_MAX_SIDE),
                   device=device)

    @staticmethod
    def _prepare(preprocessor: nn.Module, data: dict) -> torch.Tensor:
        """[1, 3, H, W] network input of one sample, through a data preprocessor."""
        batch = dict(inputs=[data['inputs']], data_samples=[data['data_samples']])
        return preprocessor(batch, training=False)['inputs']

    def attention(self, data: dict) -> Tuple[torch.Tensor, np.ndarray]:
        """Seed CAMs of the image's classes.

        Returns:
            ``([K, H, W] float32 maps at stored precision, [K] uint8 label values)``.
        """
        labels = data['data_samples'].gt_label
        class_index = torch.nonzero(labels).flatten()
        if class_index.numel() == 0:
            raise InputError(f'image {data["data_samples"].img_path} has no image-level labels')
        image = self._prepare(self.classifier.data_preprocessor, data)
        multi_hot = labels.to(device=self.device, dtype=torch.float32)[None]
        if self.cam_long_side(*image.shape[-2:]) < (self.cam_input_size or max(image.shape[-2:])):
            meta = data['data_samples'].metainfo
            self.capped.append(meta.get('img_id', meta.get('img_path')))
        maps = self._cams(image, multi_hot, class_index.to(self.device))
        ids = np.asarray(self.label_ids, dtype=np.uint8)[class_index.numpy()]
        return quantize_cams(maps.cpu()), ids

    def cam_long_side(self, height: int, width: int) -> int:
        """Long side of the network input the CAMs of a ``height`` × ``width`` image are
        computed at: ``cam_input_size`` or the image's, at most ``cam_max_side``."""
        long_side = self.cam_input_size or max(height, width)
        return long_side if self.cam_max_side is None else min(long_side, self.cam_max_side)

    def _cams(self, image: torch.Tensor, multi_hot: torch.Tensor,
              class_index: torch.Tensor) -> torch.Tensor:
        """[K, H, W] maps of the classes ``class_index`` at the input size, computed at
        :meth:`cam_long_side` and resized back when that differs from the input."""
        h, w = image.shape[-2:]
        long_side = self.cam_long_side(h, w)
        if self.cam_input_size is None and long_side == max(h, w):
            return self.cam_generator(image, multi_hot)[0, class_index]
        scale = long_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        small = F.interpolate(image, size=size, mode='bilinear', align_corners=False)
        maps = self.cam_generator(small, multi_hot)[:, class_index]
        return normalize_maps(F.interpolate(maps, size=(h, w), mode='bilinear',
                                            align_corners=False))[0]

    @torch.no_grad()
    def cue(self, data: dict) -> torch.Tensor:
        """The refiner's cue map ``[h, w]`` in [0, 1], on the CPU (:func:`wsss_mm.io.write_cue`)."""
        if self.cue_network is None:
            raise ValueError(f'{type(self.refiner).__name__} reads no cue')
        image = self._prepare(self.cue_preprocessor, data)
        if self.cue_network is self.cam_generator:  # a cue of the seeds' forward
            labels = data['data_samples'].gt_label.to(device=self.device, dtype=torch.float32)
            return self.cam_generator.cue_of(image, labels[None]).cpu()
        return self.cue_network(image).cpu()

    def cues(self, datas: Sequence[dict]) -> List[torch.Tensor]:
        """The cue maps ``[h_i, w_i]`` of several images: :meth:`cue` of each, in one
        batch where the cue network batches (``cue_batch_network``)."""
        if self.cue_batch_network is None or len(datas) < 2:
            return [self.cue(data) for data in datas]
        images = [self._prepare(self.cue_preprocessor, data) for data in datas]
        return [value.cpu() for value in self.cue_batch_network(images)]

    def refine(self, cams: torch.Tensor, class_ids: np.ndarray, image: np.ndarray,
               cue: Optional[np.ndarray]) -> np.ndarray:
        """The refiner on stored seeds and cue: ``[H, W]`` uint8 label values."""
        return refine_seeds(self.refiner, self.label_ids, cams, class_ids, image, cue)


def refine_seeds(refiner, label_ids: Sequence[int], cams: torch.Tensor, class_ids: np.ndarray,
                 image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
    """``refiner`` on stored seeds ``[K, H, W]`` and cue: ``[H, W]`` uint8 label values.

    Raises :class:`InputError` for class ids that are not in ``label_ids``.
    """
    unknown = sorted(set(int(v) for v in class_ids) - set(int(v) for v in label_ids))
    if unknown:
        raise InputError(f'class ids {unknown} are not label values of the dataset')
    return refiner.refine(cams, class_ids, image, cue)
