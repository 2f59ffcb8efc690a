"""Common interface of the trainable salient object detectors."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

__all__ = ['BaseSaliencyDetector']


class BaseSaliencyDetector(BaseModule, metaclass=ABCMeta):
    """A deeply supervised network mapping normalized images to saliency.

    Subclasses implement :meth:`side_outputs`, the logits of every supervised
    output, coarse to fine, the final prediction last. ``forward`` then gives
    what each phase needs: in training mode the list of side-output logits
    (for a deep-supervision loss), in eval mode the final saliency
    probability map resized back to the input size, shape ``[B, 1, H, W]``,
    values in ``[0, 1]``.

    Args:
        input_size (int, optional): side length of the square input the
            network runs at; inputs of another size are resized bilinearly
            first. ``None`` runs the network at the input's own size.
        init_cfg (dict | list[dict], optional): mmengine initialization
            config, e.g. ``dict(type='Pretrained', checkpoint=path)``.
    """

    def __init__(self, input_size: Optional[int] = None,
                 init_cfg: Union[dict, List[dict], None] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.input_size = input_size

    @abstractmethod
    def side_outputs(self, inputs: Tensor) -> List[Tensor]:
        """Logits ``[B, 1, h_k, w_k]`` of every supervised output, final last.

        ``inputs`` already has the network's input size.
        """

    def forward(self, inputs: Tensor) -> Union[List[Tensor], Tensor]:
        """Side-output logits (training) or the final saliency map (eval)."""
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError(f'expected images of shape [B, 3, H, W], got {tuple(inputs.shape)}')
        logits = self.side_outputs(self._network_size(inputs))
        if self.training:
            return logits
        return self._saliency(logits[-1], inputs.shape[-2:])

    def _network_size(self, inputs: Tensor) -> Tensor:
        """``inputs`` resized bilinearly to the network's input size (if it has one)."""
        if self.input_size is not None and tuple(inputs.shape[-2:]) != (self.input_size,) * 2:
            return F.interpolate(inputs, size=(self.input_size, self.input_size),
                                 mode='bilinear', align_corners=False)
        return inputs

    @staticmethod
    def _saliency(final_logits: Tensor, size) -> Tensor:
        """Final logits ``[B, 1, h, w]`` -> saliency ``[B, 1, *size]`` in [0, 1]."""
        return torch.sigmoid(F.interpolate(final_logits, size=tuple(size), mode='bilinear',
                                           align_corners=False))

    def forward_many(self, images: List[Tensor]) -> List[Tensor]:
        """Eval-mode :meth:`forward` of images of different sizes, ``[1, 3, H_i, W_i]``
        each, in one network batch at the fixed ``input_size``: ``[1, 1, H_i, W_i]`` each."""
        if self.input_size is None:
            raise ValueError('forward_many needs a detector with a fixed input_size')
        for image in images:
            if image.dim() != 4 or image.shape[:2] != (1, 3):
                raise ValueError(f'expected images of shape [1, 3, H, W], got '
                                 f'{tuple(image.shape)}')
        final = self.side_outputs(torch.cat([self._network_size(x) for x in images]))[-1]
        return [self._saliency(final[i:i + 1], x.shape[-2:]) for i, x in enumerate(images)]
