"""CLIP-ES seeds + CAA per image: wsss_mm's batched engine vs per-class references.

Same randomly initialized CLIP ViT-B/16 (VOC prompts: 20 classes + 25 background
words), one 375×500 image (384×512 for the encoder, 24×32 patches), K present
classes. Three ways to get the K seeds and their CAA maps:

* wsss_mm: one forward, one batched backward for the K classes
  (:class:`ClipESGradCAMGenerator`), CAA's transition computed once per image on the
  network's device (:func:`caa_refine`).
* pytorch-grad-cam per class: ``GradCAM`` with a ``reshape_transform`` and the softmax
  target, one call (forward + backward from the last block's ln_1) per class, then
  CLIP-ES's CAA per class on the CPU (its loop recomputes the transition per class).
* CLIP-ES's script structure: blocks 1-11 once, then per class pytorch-grad-cam on the
  last block only (its ``forward_last_layer``), CAA per class on the CPU.

The table gives seconds per image, the ratio to wsss_mm and the largest difference of
the seeds and CAA maps (patch grid) to wsss_mm's.

    python benchmarks/bench_clip_es.py                     # CPU, 1 and 4 classes
    python benchmarks/bench_clip_es.py --device cuda --repeats 5
"""
import argparse
import os.path as osp

import numpy as np
import pytorch_grad_cam
import torch
from _common import add_common_args, measure, print_report, quiet_mmengine, setup
from mmengine.config import Config
from torch import nn

from wsss_mm.cam import ClipESGradCAMGenerator
from wsss_mm.models import CLIPZeroShotClassifier
from wsss_mm.pseudo import caa_refine, cam_box_mask

PROMPTS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', '_base_',
                   'prompts', 'clip_es_voc12.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--classes', type=int, nargs='+', default=[1, 4])
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    return add_common_args(parser).parse_args()


def clip_es_caa(attn: torch.Tensor, cam: np.ndarray) -> np.ndarray:
    """CLIP-ES generate_cams_voc12.py's CAA of one class, on the CPU in float32."""
    h, w = cam.shape
    mask = torch.from_numpy(cam_box_mask(cam, 0.4)).reshape(1, h * w)
    t = attn / attn.sum(dim=0, keepdim=True)
    t = t / t.sum(dim=1, keepdim=True)
    for _ in range(2):
        t = t / t.sum(dim=0, keepdim=True)
        t = t / t.sum(dim=1, keepdim=True)
    t = (t + t.T) / 2
    t = (t @ t) * mask
    refined = (t @ torch.from_numpy(cam).reshape(-1, 1)).reshape(h, w)
    refined = refined - refined.min()
    return (refined / (1e-7 + refined.max())).numpy()


class Softmax(nn.Module):
    """Logits of [present classes + background] -> softmax (CLIP-ES's targets)."""

    def __init__(self, head, present, num_classes):
        super().__init__()
        self.head, self.present, self.num_classes = head, present, num_classes

    def forward(self, x):
        logits = self.head(x)
        keep = list(self.present) + list(range(self.num_classes, logits.shape[1]))
        return logits[:, keep].softmax(dim=-1)


class LastBlockHead(nn.Module):
    """Tokens after block L-1 -> logits: the last block, ln_post, patch mean, proj."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        visual = self.model.clip.visual
        x, _ = visual.transformer.resblocks[-1](tokens)
        features = visual.ln_post(x)[:, 1:].mean(dim=1) @ visual.proj
        cosine = nn.functional.normalize(features, dim=-1) @ self.model.text_features().T
        return self.model.clip.logit_scale.exp() * cosine


def per_class_reference(model, image, present, last_block_only):
    """Seeds and CAA maps ``[K, h, w]`` one class at a time (pytorch-grad-cam)."""
    h, w = model.grid_size(*image.shape[-2:])
    visual = model.clip.visual
    weights = []
    hook = visual.transformer.register_forward_hook(
        lambda m, a, out: weights.extend(out[1]))
    with torch.no_grad():  # the attention of all blocks (CLIP-ES keeps them from one pass)
        if last_block_only:
            x = model.encoder_input(image)
            x = visual.conv1(x).flatten(2).transpose(1, 2)
            x = torch.cat([visual.class_embedding.expand(1, 1, -1), x], 1)
            x = visual.ln_pre(x + visual.positional_embedding_for(h, w))
            for block in visual.transformer.resblocks[:-1]:
                x, wt = block(x, need_weights=True)
                weights.append(wt)
            weights.append(visual.transformer.resblocks[-1](x, need_weights=True)[1])
            head, cam_input = LastBlockHead(model), x
        else:
            model(image)
            head, cam_input = model, image
    hook.remove()
    attn = torch.stack(weights[-8:])[:, 0, 1:, 1:].mean(0).cpu()

    class GridGradCAM(pytorch_grad_cam.GradCAM):
        def get_target_width_height(self, input_tensor):
            return w, h

    def reshape(tokens):
        return tokens[:, 1:].reshape(tokens.shape[0], h, w, -1).permute(0, 3, 1, 2)

    layer = visual.transformer.resblocks[-1].ln_1
    for p in model.parameters():
        p.requires_grad_(False)
    layer.weight.requires_grad_(True)  # blocks 1-11 without gradients, as CLIP-ES
    seeds, refined = [], []
    for k in range(len(present)):
        wrapper = Softmax(head, present, model.num_classes)
        with GridGradCAM(model=wrapper, target_layers=[layer],
                         reshape_transform=reshape) as cam:
            seed = cam(input_tensor=cam_input,
                       targets=[lambda out, k=k: out[k] if out.dim() == 1 else out[:, k]])[0]
        seeds.append(seed)
        refined.append(clip_es_caa(attn, seed))
    return np.stack(seeds), np.stack(refined)


def ours(generator, image, labels):
    maps = generator(image, labels)
    present = labels[0] > 0
    grid = generator.grid_maps()[0, present]
    refined = caa_refine(generator.affinity()[0], grid)
    return maps, grid, refined


def main() -> None:
    args = parse_args()
    device = setup(args)
    quiet_mmengine()
    text = Config.fromfile(PROMPTS).model
    model = CLIPZeroShotClassifier(text.classes, text.class_prompts,
                                   text.background_prompts).to(device).eval()
    with torch.no_grad():
        for block in model.clip.visual.transformer.resblocks:
            block.attn.in_proj_weight.mul_(4)  # sharper random attention: CAMs with structure
    generator = ClipESGradCAMGenerator(model)
    image = torch.randn(1, 3, args.height, args.width, device=device)
    model.text_features()
    rows = []
    for count in args.classes:
        labels = torch.zeros(1, model.num_classes, device=device)
        present = list(range(0, 2 * count, 2))
        labels[0, present] = 1
        seconds, (_, grid, refined) = measure(lambda: ours(generator, image, labels), device,
                                              args.repeats, warmup=1)
        grid, refined = grid.cpu().numpy(), refined.cpu().numpy()
        for name, last_only in (('pytorch-grad-cam per class', False),
                                ("CLIP-ES script (last block per class)", True)):
            ref_seconds, (ref_grid, ref_refined) = measure(
                lambda: per_class_reference(model, image, present, last_only), device,
                args.repeats, warmup=1)
            for p in model.parameters():
                p.requires_grad_(True)
            flips = sum(int(np.abs(cam_box_mask(a, 0.4) - cam_box_mask(b, 0.4)).sum())
                        for a, b in zip(grid, ref_grid))
            rows.append((count, name, f'{seconds:.2f}', f'{ref_seconds:.2f}',
                         f'{ref_seconds / seconds:.2f}x',
                         f'{np.abs(grid - ref_grid).max():.1e}',
                         f'{np.abs(refined - ref_refined).max():.1e}', flips))
    print_report(
        f'CLIP-ES seeds + CAA, ViT-B/16 (random weights, 20 VOC classes + 25 background words), '
        f'{args.height}x{args.width} image, {device.type}, {args.repeats} repeat(s)', device,
        ('classes / image', 'reference', 'wsss_mm (s/img)', 'reference (s/img)', 'speed-up',
         'max |seeds diff|', 'max |CAA diff|', 'box-mask cells differing'), rows,
        ['Seeds and CAA maps are compared on the patch grid. The box masks threshold the '
         'seeds quantized to 8 bits (CLIP-ES scoremap2bbox), so a seed value within ~1e-6 of '
         'a quantization step at the threshold can move a box edge; the last column counts '
         'the cells where the two masks differ (they explain any large CAA difference).'])


if __name__ == '__main__':
    main()
