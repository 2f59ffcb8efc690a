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
        network_inputs = inputs
        if self.input_size is not None and tuple(inputs.shape[-2:]) != (self.input_size,) * 2:
            network_inputs = F.interpolate(
                inputs, size=(self.input_size, self.input_size), mode='bilinear',
                align_corners=False)
        logits = self.side_outputs(network_inputs)
        if self.training:
            return logits
        final = F.interpolate(
            logits[-1], size=inputs.shape[-2:], mode='bilinear', align_corners=False)
        return torch.sigmoid(final)
