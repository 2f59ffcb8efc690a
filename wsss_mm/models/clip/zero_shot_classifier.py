"""CLIP as a training-free multi-label classifier: class prompts + background words."""
import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmseg.utils import tokenize
from torch import Tensor

from wsss_mm.registry import MODELS
from .checkpoint import read_clip_state_dict
from .clip_model import NON_PARAMETER_KEYS, CLIPModel, clip_arch_from_state_dict

__all__ = ['CLIPZeroShotClassifier', 'VIT_B_16_ARCH']

#: OpenAI's ViT-B/16 (the architecture of ``ViT-B-16.pt``)
VIT_B_16_ARCH = dict(embed_dim=512, vision_patch_size=16, vision_grid=14, vision_width=768,
                     vision_layers=12, vision_heads=12, context_length=77, vocab_size=49408,
                     text_width=512, text_layers=12, text_heads=8)


@MODELS.register_module()
class CLIPZeroShotClassifier(BaseModel):
    """``model(images)`` -> logits ``[B, C + G]`` = exp(logit_scale) · cos(image, text) over
    the C dataset classes, then the G background words (CLIP-ES).

    Images are resized bicubically to their size rounded up to a multiple of the
    patch size before the encoder (CLIP-ES), so any image of at least one patch runs.

    Args:
        classes: The dataset's class names, in its label order.
        class_prompts: Class name -> the words put into ``template`` (synonyms
            comma-separated, e.g. ``'person with clothes,people,human'``); every
            class of ``classes`` needs an entry.
        background_prompts: Background words (CLIP-ES: ground, land, grass ...).
        template: Prompt template (CLIP-ES: ``'a clean origami {}.'``).
        arch: :class:`CLIPModel` arguments until a checkpoint sets them
            (:meth:`load_released_weights`); default ViT-B/16.
        data_preprocessor: Normalization config (CLIP's mean / std, RGB).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 classes: Sequence[str],
                 class_prompts: Dict[str, str],
                 background_prompts: Sequence[str],
                 template: str = 'a clean origami {}.',
                 arch: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        missing = [c for c in classes if c not in class_prompts]
        if missing:
            raise KeyError(f'class(es) {missing} have no entry in class_prompts '
                           f'(known: {sorted(class_prompts)})')
        if '{}' not in template:
            raise ValueError(f"template must contain '{{}}', got {template!r}")
        self.classes = tuple(classes)
        self.prompts = tuple(template.format(class_prompts[c]) for c in classes) + tuple(
            template.format(word) for word in background_prompts)
        self.num_classes = len(self.classes)
        self._arch = dict(arch or VIT_B_16_ARCH)
        self.clip = CLIPModel(**self._arch)
        self._text_cache: Dict[Tuple[str, ...], Tensor] = {}

    @property
    def patch_size(self) -> int:
        """Side of one image patch (16 for ViT-B/16)."""
        return self.clip.visual.patch_size

    def load_released_weights(self, path: str) -> None:
        """Load OpenAI's weights (TorchScript archive or state dict) strictly; the
        architecture is read from the checkpoint's shapes. A file that is not a CLIP ViT
        in OpenAI's layout is refused naming its missing / unexpected keys."""
        state = read_clip_state_dict(path)
        state = {k: v for k, v in state.items()
                 if k not in NON_PARAMETER_KEYS and k.split('.')[-1] != 'attn_mask'}
        try:
            arch = clip_arch_from_state_dict(state)
        except KeyError as err:
            raise ValueError(f'{path}: {err.args[0]}; its keys start with '
                             f'{sorted(state)[:8]}') from err
        current = self.clip
        model = current if arch == self._arch else CLIPModel(**arch)
        expected = set(model.state_dict())
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise ValueError(f'{path} is not a CLIP ViT checkpoint of the architecture its '
                             f'shapes give ({arch}): missing keys {missing[:10]}, unexpected '
                             f'keys {unexpected[:10]}')
        model.load_state_dict(state, strict=True)
        self.clip = model.to(current.logit_scale.device)
        self._arch = arch
        self._text_cache.clear()
        print_log(f'loaded CLIP {arch} from {path}', logger='current')

    @torch.no_grad()
    def text_features(self) -> Tensor:
        """``[C + G, E]`` unit-norm text embeddings of the prompts, computed once per
        prompt set and weights."""
        key = self.prompts
        cached = self._text_cache.get(key)
        device = self.clip.logit_scale.device
        if cached is None or cached.device != device:
            tokens = tokenize(list(key), context_length=self.clip.context_length).to(device)
            cached = F.normalize(self.clip.encode_text(tokens), dim=-1)
            self._text_cache[key] = cached
        return cached

    def encoder_input(self, images: Tensor) -> Tensor:
        """Images ``[B, 3, H, W]`` resized bicubically to ``ceil(H / P) · P × ceil(W / P) · P``
        (P the patch size); smaller than one patch: ValueError."""
        height, width = images.shape[-2:]
        p = self.patch_size
        if height < p or width < p:
            raise ValueError(f'image of {height}×{width} pixels is smaller than one '
                             f'{p}×{p} patch')
        size = (math.ceil(height / p) * p, math.ceil(width / p) * p)
        if size == (height, width):
            return images
        return F.interpolate(images, size=size, mode='bicubic', align_corners=False)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Tensor:
        """Normalized images ``[B, 3, H, W]`` -> logits ``[B, C + G]`` (only ``'tensor'``:
        the model is not trained)."""
        if mode != 'tensor':
            raise ValueError(f"{type(self).__name__} only has mode 'tensor', got {mode!r}")
        features, _ = self.clip.encode_image(self.encoder_input(inputs))
        cosine = F.normalize(features, dim=-1) @ self.text_features().T
        return self.clip.logit_scale.exp() * cosine

    def grid_size(self, height: int, width: int) -> Tuple[int, int]:
        """The patch grid of an ``height × width`` input."""
        p = self.patch_size
        return math.ceil(height / p), math.ceil(width / p)
