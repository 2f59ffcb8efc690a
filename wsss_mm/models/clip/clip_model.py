"""CLIP (Radford et al., 2021) in OpenAI's parameter layout, with CLIP-ES's image side.

The modules keep OpenAI's names (``visual.conv1.weight``,
``visual.transformer.resblocks.N.attn.in_proj_weight``, ``token_embedding.weight`` ...)
so a released state dict loads strictly. The image side is CLIP-ES's: any input size
that is a multiple of the patch size, the patch positional embeddings interpolated
bilinearly to the patch grid (the class token's kept), and the image feature is the
mean of the patch tokens after ``ln_post`` and ``proj``. Every visual block returns
its head-averaged attention weights (CLIP-ES's affinity reads the last ones).

mmseg 1.2.2's ``VisionTransformer(pre_norm=True)`` and ``CLIPTextEncoder`` do not fit:
their parameter names differ (``patch_embed.projection``, ``layers.N.attn.attn``,
``ffn.layers``), their MLP uses GELU (CLIP's is QuickGELU), mmseg's ViT has no ``proj``
and resizes the positional embedding bicubically, and neither returns attention weights.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ['QuickGELU', 'ResidualAttentionBlock', 'CLIPTransformer', 'CLIPVisionTransformer',
           'CLIPModel', 'clip_arch_from_state_dict', 'NON_PARAMETER_KEYS']

#: integer attributes OpenAI's TorchScript archives carry besides the parameters
NON_PARAMETER_KEYS = ('input_resolution', 'context_length', 'vocab_size')


class QuickGELU(nn.Module):
    """``x · sigmoid(1.702 x)``: the activation OpenAI's CLIP models were trained with."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Args:
        width: Token width D.
        heads: Attention heads.
    """

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module('c_fc', nn.Linear(width, width * 4))
        self.mlp.add_module('gelu', QuickGELU())
        self.mlp.add_module('c_proj', nn.Linear(width * 4, width))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None,
                need_weights: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        """Tokens ``[N, L, D]`` -> tokens ``[N, L, D]`` and (if asked) the head-averaged
        attention weights ``[N, L, L]``."""
        h = self.ln_1(x)
        out, weights = self.attn(h, h, h, attn_mask=attn_mask, need_weights=need_weights,
                                 average_attn_weights=True)
        x = x + out
        return x + self.mlp(self.ln_2(x)), weights


class CLIPTransformer(nn.Module):
    """A stack of :class:`ResidualAttentionBlock` (OpenAI's ``transformer.resblocks``)."""

    def __init__(self, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads) for _ in range(layers))

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None,
                need_weights: bool = False) -> Tuple[Tensor, List[Tensor]]:
        """Tokens ``[N, L, D]`` -> tokens and each block's attention weights (if asked)."""
        weights = []
        for block in self.resblocks:
            x, w = block(x, attn_mask, need_weights)
            if need_weights:
                weights.append(w)
        return x, weights


class CLIPVisionTransformer(nn.Module):
    """CLIP's ViT image encoder with CLIP-ES's size-free positional embedding.

    Args:
        patch_size: Patch side P.
        grid: Side of the pretraining patch grid (224 / 16 = 14 for ViT-B/16).
        width, layers, heads: Transformer shape.
        output_dim: Joint embedding width E.
    """

    def __init__(self, patch_size: int, grid: int, width: int, layers: int, heads: int,
                 output_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width**-0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = CLIPTransformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def positional_embedding_for(self, h: int, w: int) -> Tensor:
        """``[1 + h·w, D]``: the patch embeddings resized bilinearly to an h × w grid
        (``align_corners=False``), the class token's unchanged (CLIP-ES ``upsample_pos_emb``)."""
        cls_pos, patch_pos = self.positional_embedding[:1], self.positional_embedding[1:]
        side = round(patch_pos.shape[0]**0.5)
        grid = patch_pos.T.reshape(1, -1, side, side)
        grid = F.interpolate(grid, size=(h, w), mode='bilinear', align_corners=False)
        return torch.cat([cls_pos, grid.reshape(grid.shape[1], h * w).T])

    def forward(self, images: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Normalized images ``[N, 3, H, W]`` (H, W multiples of P) -> image features
        ``[N, E]`` (mean patch token after ln_post and proj) and the blocks' attention
        weights (``[N, 1 + h·w, 1 + h·w]`` each, token 0 the class token)."""
        if images.shape[-2] % self.patch_size or images.shape[-1] % self.patch_size:
            raise ValueError(f'image size {tuple(images.shape[-2:])} is not a multiple of the '
                             f'patch size {self.patch_size}')
        x = self.conv1(images)  # [N, D, h, w]
        h, w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        cls_token = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls_token, x], dim=1) + self.positional_embedding_for(h, w)
        x, weights = self.transformer(self.ln_pre(x), need_weights=True)
        features = self.ln_post(x)[:, 1:].mean(dim=1) @ self.proj
        return features, weights


class CLIPModel(nn.Module):
    """OpenAI's CLIP with a ViT image encoder; parameter names as in their files.

    Args:
        embed_dim: Joint embedding width E.
        vision_patch_size, vision_grid, vision_width, vision_layers, vision_heads:
            Image encoder shape.
        context_length, vocab_size, text_width, text_layers, text_heads: Text encoder shape.
    """

    def __init__(self, embed_dim: int, vision_patch_size: int, vision_grid: int,
                 vision_width: int, vision_layers: int, vision_heads: int, context_length: int,
                 vocab_size: int, text_width: int, text_layers: int, text_heads: int) -> None:
        super().__init__()
        self.context_length = context_length
        self.visual = CLIPVisionTransformer(vision_patch_size, vision_grid, vision_width,
                                            vision_layers, vision_heads, embed_dim)
        self.transformer = CLIPTransformer(text_width, text_layers, text_heads)
        self.token_embedding = nn.Embedding(vocab_size, text_width)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(context_length, text_width))
        self.ln_final = nn.LayerNorm(text_width)
        self.text_projection = nn.Parameter(text_width**-0.5 *
                                            torch.randn(text_width, embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(2.6592))  # log(1 / 0.07)
        mask = torch.full((context_length, context_length), float('-inf')).triu(1)
        self.register_buffer('attn_mask', mask, persistent=False)

    def encode_image(self, images: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """See :meth:`CLIPVisionTransformer.forward`."""
        return self.visual(images)

    def encode_text(self, tokens: Tensor) -> Tensor:
        """Token ids ``[T, context_length]`` -> text features ``[T, E]`` (the end-of-text
        token's, the largest id of each row, after ``ln_final`` and the projection).

        The attention is causal, so the positions after the last end-of-text token cannot
        change any feature: they are not computed."""
        eot = tokens.argmax(dim=-1)
        length = int(eot.max()) + 1
        x = self.token_embedding(tokens[:, :length]) + self.positional_embedding[:length]
        x, _ = self.transformer(x, attn_mask=self.attn_mask[:length, :length])
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), eot] @ self.text_projection


def _block_count(state_dict: Dict[str, Tensor], prefix: str) -> int:
    """Number of ``<prefix>N.`` blocks (the largest N + 1)."""
    ids = {int(k[len(prefix):].split('.')[0]) for k in state_dict if k.startswith(prefix)}
    return max(ids) + 1 if ids else 0


def clip_arch_from_state_dict(state_dict: Dict[str, Tensor]) -> Dict[str, int]:
    """:class:`CLIPModel` arguments read from the shapes of an OpenAI-layout state dict
    (heads = width / 64, as in all released models). Raises KeyError naming a missing key."""
    required = ('visual.conv1.weight', 'visual.positional_embedding', 'text_projection',
                'positional_embedding', 'token_embedding.weight', 'ln_final.weight')
    missing = [k for k in required if k not in state_dict]
    if missing:
        raise KeyError(f'not a CLIP ViT state dict in OpenAI layout: missing {missing}')
    conv = state_dict['visual.conv1.weight']
    vision_width, vision_patch = conv.shape[0], conv.shape[-1]
    grid = round((state_dict['visual.positional_embedding'].shape[0] - 1)**0.5)
    text_width = state_dict['ln_final.weight'].shape[0]
    return dict(embed_dim=state_dict['text_projection'].shape[1],
                vision_patch_size=vision_patch, vision_grid=grid, vision_width=vision_width,
                vision_layers=_block_count(state_dict, 'visual.transformer.resblocks.'),
                vision_heads=vision_width // 64,
                context_length=state_dict['positional_embedding'].shape[0],
                vocab_size=state_dict['token_embedding.weight'].shape[0],
                text_width=text_width,
                text_layers=_block_count(state_dict, 'transformer.resblocks.'),
                text_heads=text_width // 64)
