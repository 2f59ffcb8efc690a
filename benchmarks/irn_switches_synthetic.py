"""What each of IRN's switches does on generated data (docs/irn.md, "The switches").

The chain of tests/test_irn_pipeline.py (configs/irn/ at a reduced size: 40 generated train
images 96 x 128, a tiny ResNet-18 classifier trained once, a tiny IRNet from scratch 60
iterations per variant), once with every switch as IRN sets it, once with every switch as
wsss_mm had it before, and once with each switch alone reverted. Prints one row per variant:
CAM seeds at 0.15, the relation labels' precision (labelled pixels equal to the GT, GT void
left out) and share of labelled pixels, IRN's pseudo labels (mIoU, tools/compare_pseudo.py).
IRN pads to its 512 crop; the generated images are trained whole, so the analogue is a pad to
128 x 128 (training crops and inference).

    PYTHONPATH=. python benchmarks/irn_switches_synthetic.py WORK_DIR [SEED [VARIANT ...]]

SEED (default 0) seeds the IRNet training (the classifier is trained once per WORK_DIR with
seed 0); VARIANT indices (0-5, default all) pick rows.
"""
import json
import os
import os.path as osp
import shutil
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tests'))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from irn_walk_diagnostics import relation_label_stats  # noqa: E402
from test_irn_pipeline import _tool, _write_configs  # noqa: E402

from wsss_mm.datasets.synthetic import make_synthetic_voc  # noqa: E402

IRN_CAM = ["cam_generator.scale_resize='pil_bicubic'", 'cam_generator.upsample_divisor=16']
OLD_CAM = ["cam_generator.scale_resize='bilinear'", 'cam_generator.upsample_divisor=None']
MEAN_PAD = "dict(type='RandomPlacePad', size=(128, 128), img_pad_val=(128.0, 128.0, 128.0))"
BLACK_PAD = "dict(type='Pad', size=(128, 128), pad_val=dict(img=0, seg=255))"
# variant -> (CAM options, IRNet training pad transform or None, test_pad_size, pair_band)
VARIANTS = {
    'IRN (every switch)': (IRN_CAM, MEAN_PAD, 128, 'irn'),
    'before (no switch)': (OLD_CAM, None, None, 'grid'),
    'CAM geometry: stretch to H x W': (IRN_CAM[:1] + OLD_CAM[1:], MEAN_PAD, 128, 'irn'),
    'scale inputs: bilinear tensor': (OLD_CAM[:1] + IRN_CAM[1:], MEAN_PAD, 128, 'irn'),
    'IRNet padding: black bottom/right, none at inference': (IRN_CAM, BLACK_PAD, None, 'irn'),
    'pair band: every grid pixel': (IRN_CAM, MEAN_PAD, 128, 'grid'),
}


def main(work: str, seed: int = 0, picked=None) -> None:
    voc = make_synthetic_voc(osp.join(work, 'data'), num_train=40, num_val=16)
    rows = []
    cls_ckpt = osp.join(work, 'cls', 'iter_400.pth')
    for index, (name, (cam_opts, pad, test_pad, band)) in enumerate(VARIANTS.items()):
        if picked and index not in picked:
            continue
        root = osp.join(work, f'v{index}_seed{seed}')
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        seeds_cfg, irn_cfg, irnet_cfg = _write_configs(_Path(root), voc)
        if not osp.isfile(cls_ckpt):
            torch.manual_seed(0)
            _tool('train', seeds_cfg, '--work-dir', osp.join(work, 'cls'), '--cfg-options',
                  'randomness.seed=0')
        _edit(irnet_cfg, [("dict(type='LoadRelationLabels'),",
                           f"dict(type='LoadRelationLabels'), {pad}," if pad else None),
                          ('model = dict(_delete_=True, **',
                           f'model = dict(_delete_=True, test_pad_size={test_pad}, **'),
                          ("'type': 'AffinityLoss', 'radius': 5",
                           f"'type': 'AffinityLoss', 'radius': 5, 'pair_band': {band!r}")])
        _edit(irn_cfg, [('boundary_generator = dict(_delete_=True, **',
                         f'boundary_generator = dict(_delete_=True, test_pad_size={test_pad}, **')])
        seeds_dir, irn_dir = osp.join(root, 'seeds'), osp.join(root, 'irn')
        _tool('gen_pseudo', seeds_cfg, '--classifier-checkpoint', cls_ckpt, '--work-dir',
              seeds_dir, '--cfg-options', *cam_opts)
        shutil.copytree(osp.join(seeds_dir, 'cams'), osp.join(irn_dir, 'cams'))
        torch.manual_seed(seed)
        _tool('train', irnet_cfg, '--work-dir', osp.join(root, 'irnet'), '--cfg-options',
              f'randomness.seed={seed}')
        _tool('gen_pseudo', irn_cfg, '--classifier-checkpoint', cls_ckpt, '--cue-checkpoint',
              osp.join(root, 'irnet', 'iter_60.pth'), '--work-dir', irn_dir, '--stages',
              'cue,refine')
        _tool('compare_pseudo', seeds_cfg, irn_cfg, '--names', 'seeds', 'irn', '--pseudo-dirs',
              seeds_dir, irn_dir, '--work-dir', osp.join(root, 'compare'), '--num-vis', '0')
        with open(osp.join(root, 'compare', 'compare_pseudo.json'), encoding='utf-8') as f:
            seeds, irn = json.load(f)['methods']
        precision, share = relation_label_stats(irn_dir, voc)
        rows.append(f"| {name} | {seed} | {seeds['mIoU']:.2f} | {precision:.1f} / {share:.1f} | "
                    f"{irn['mIoU']:.2f} |")
        print(rows[-1], flush=True)
    print('| variant | IRNet seed | CAM seeds @0.15 | relation labels: precision / labelled % '
          '| IRN |')
    print('| --- | --- | --- | --- | --- |')
    print('\n'.join(rows))


def _edit(path: str, replacements) -> None:
    """Replace each (old, new) once in a config file; new None keeps old; old must occur."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    for old, new in replacements:
        if old not in text:
            raise ValueError(f'{old!r} not in {path}')
        text = text.replace(old, old if new is None else new, 1)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


class _Path(str):
    """A str path with ``/`` (what _write_configs expects of pytest's tmp_path)."""

    def __truediv__(self, other: str) -> '_Path':
        return _Path(osp.join(self, other))

    def write_text(self, text: str) -> None:
        with open(self, 'w', encoding='utf-8') as f:
            f.write(text)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0,
         [int(v) for v in sys.argv[3:]])
