"""Generate pseudo labels for a split: Grad-CAM → erasing saliency → Algorithm 1.

Writes under the work dir:
  cams/<id>.npz             float16 maps of the image's classes + their VOC ids
  saliency/<id>.png         8-bit erasing saliency S = max(S0, S1, S2)
  pseudo_labels/<id>.png    VOC palette PNG, 0..20 (255 with an ignore band)
  vis/<id>.png              with --vis: image | CAM per class | saliency | pseudo label | GT
  gen_pseudo_report.json    images done / skipped, failures with their reason

Every file is written atomically; an image counts as done when its pseudo label
exists, so a killed run resumes where it stopped and gives byte-identical files.
With --launcher pytorch each rank takes every world_size-th image.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist
from PIL import Image
from tqdm import tqdm

from wsss_mm.apis import InputError, PseudoLabelPipeline, read_rgb
from wsss_mm.datasets.voc import (VOC_CLASSES, VOC_PALETTE, labels_from_mask, labels_from_xml,
                                  read_split)
from wsss_mm.utils.io import (atomic_write_bytes, remove_stale_temp_files, save_npz_atomic,
                              save_png_atomic)
from wsss_mm.utils.setup_env import init_cpu_distributed, register_all_modules
from wsss_mm.visualization import make_panel

STAGES = ('cam', 'saliency', 'fuse')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='pseudo-label config (classifier + CAM + saliency + fuser)')
    parser.add_argument('--classifier-checkpoint', help='trained classifier checkpoint')
    parser.add_argument('--work-dir', required=True, help='output folder')
    parser.add_argument('--stages', default=','.join(STAGES),
                        help='comma list of cam,saliency,fuse; stages left out read their '
                        'results from the work dir')
    parser.add_argument('--vis', action='store_true', help='write side-by-side overlays')
    parser.add_argument('--on-error', choices=['raise', 'skip'],
                        help='bad input: stop (raise) or skip and report (default: config)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    return parser.parse_args()


def load_item_labels(data_cfg: dict, img_id: str) -> np.ndarray:
    """Image-level labels of one image from its XML (or mask, if configured)."""
    root = data_cfg['data_root']
    if data_cfg.get('label_source', 'xml') == 'mask':
        return labels_from_mask(osp.join(root, data_cfg.get('seg_map_dir',
                                                             'SegmentationClassAug'),
                                         img_id + '.png'))
    return labels_from_xml(osp.join(root, 'Annotations', img_id + '.xml'), VOC_CLASSES)


def process_image(pipeline: PseudoLabelPipeline, img_id: str, data_cfg: dict,
                  out: Dict[str, str], stages: List[str], vis: bool) -> None:
    """Run the requested stages for one image, reading skipped stages from files."""
    root = data_cfg['data_root']
    img_path = osp.join(root, data_cfg.get('img_dir', 'JPEGImages'), img_id + '.jpg')
    cam_path = osp.join(out['cams'], img_id + '.npz')
    sal_path = osp.join(out['saliency'], img_id + '.png')
    rgb = read_rgb(img_path)
    labels = load_item_labels(data_cfg, img_id)
    if not labels.any():
        raise InputError(f'image {img_path} has no image-level labels')
    if 'cam' in stages or not osp.isfile(cam_path):
        if 'cam' not in stages:
            raise InputError(f'missing CAM file {cam_path} (stage cam not requested)')
        cams, class_ids = pipeline.attention(rgb, labels)
        save_npz_atomic(cam_path, cams=cams.numpy().astype(np.float16), class_ids=class_ids)
    else:
        try:
            with np.load(cam_path) as data:
                cams, class_ids = torch.from_numpy(data['cams'].astype(np.float32)), \
                    data['class_ids']
        except (OSError, KeyError, ValueError) as err:
            raise InputError(f'cannot read CAM file {cam_path}: {err}') from err
    if 'saliency' in stages or not osp.isfile(sal_path):
        if 'saliency' not in stages:
            raise InputError(f'missing saliency file {sal_path} (stage saliency not requested)')
        saliency = pipeline.saliency(rgb)
        save_png_atomic(sal_path, saliency)
    else:
        try:
            saliency = np.asarray(Image.open(sal_path).convert('L'))
        except OSError as err:
            raise InputError(f'cannot read saliency file {sal_path}: {err}') from err
    if cams.shape[1:] != rgb.shape[:2] or saliency.shape != rgb.shape[:2]:
        raise InputError(f'size mismatch for {img_id}: image {rgb.shape[:2]}, CAM '
                         f'{tuple(cams.shape[1:])} ({cam_path}), saliency {saliency.shape} '
                         f'({sal_path})')
    pseudo = pipeline.fuse(cams, class_ids, saliency)
    if vis:
        panel_labels = {'pseudo label': pseudo}
        gt_path = osp.join(root, data_cfg.get('seg_map_dir', 'SegmentationClassAug'),
                           img_id + '.png')
        if osp.isfile(gt_path):
            panel_labels['GT'] = np.asarray(Image.open(gt_path))
        panel = make_panel(rgb, {VOC_CLASSES[int(c) - 1]: m.numpy()
                                 for c, m in zip(class_ids, cams)}, saliency / 255.0,
                           panel_labels)
        save_png_atomic(osp.join(out['vis'], img_id + '.png'), panel)
    # written last: its presence marks the image as done
    save_png_atomic(osp.join(out['pseudo_labels'], img_id + '.png'), pseudo, VOC_PALETTE)


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    stages = [s for s in args.stages.split(',') if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        sys.exit(f'--stages: unknown stage(s) {sorted(unknown)}; choose from {STAGES}')
    data_cfg = cfg.pseudo_data
    on_error = args.on_error or cfg.get('pseudo_on_error', 'raise')
    init_cpu_distributed(None, args.launcher)
    if args.launcher != 'none' and not torch.distributed.is_initialized():
        init_dist(args.launcher)
    rank, world_size = get_dist_info()
    device = args.device
    if device == 'cuda' and world_size > 1:
        device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'

    ids = read_split(osp.join(data_cfg['data_root'], data_cfg['ann_file']))
    out = {name: osp.join(args.work_dir, name) for name in
           ('cams', 'saliency', 'pseudo_labels', 'vis')}
    if rank == 0:
        for folder in out.values():
            remove_stale_temp_files(folder)
    barrier()
    todo = [i for i in ids[rank::world_size]
            if not osp.isfile(osp.join(out['pseudo_labels'], i + '.png'))]
    pipeline = PseudoLabelPipeline.from_config(cfg, args.classifier_checkpoint, device=device)
    failures = []
    for img_id in tqdm(todo, desc=f'pseudo labels (rank {rank})', disable=rank != 0,
                       dynamic_ncols=True):
        try:
            process_image(pipeline, img_id, data_cfg, out, stages, args.vis)
        except (InputError, ValueError) as err:
            if on_error == 'raise':
                raise SystemExit(f'gen_pseudo: {err}') from err
            failures.append(dict(img_id=img_id, error=str(err)))
    gathered = all_gather_object(dict(failures=failures, attempted=len(todo)))
    if rank == 0:
        failed = sorted((f for part in gathered for f in part['failures']),
                        key=lambda f: f['img_id'])
        attempted = sum(part['attempted'] for part in gathered)
        report = dict(images=len(ids), processed_this_run=attempted - len(failed),
                      skipped_already_done=len(ids) - attempted, failures=failed)
        atomic_write_bytes(osp.join(args.work_dir, 'gen_pseudo_report.json'),
                           json.dumps(report, indent=2).encode('utf-8'))
        for failure in failed:
            print(f'[gen_pseudo] skipped {failure["img_id"]}: {failure["error"]}')
        print(f'[gen_pseudo] {report["processed_this_run"]} images done, '
              f'{report["skipped_already_done"]} already done, {len(failed)} failed')
    barrier()


if __name__ == '__main__':
    main()
