"""Generate pseudo labels for a split: Grad-CAM → erasing saliency → Algorithm 1.

Writes under the work dir:
  cams/<id>.npz             float16 maps of the image's classes + their VOC ids
  saliency/<id>.png         8-bit erasing saliency S = max(S0, S1, S2)
  pseudo_labels/<id>.png    VOC palette PNG, 0..20 (255 with an ignore band)
  vis/<id>.png              with --vis: image | CAM per class | saliency | pseudo label | GT
  gen_pseudo_report.json    the last run: status (running / finished / stopped at which
                            image and why), images done / skipped, failures with their reason

Every file is written atomically and each stage skips outputs that exist, so a killed
run resumes where it stopped and gives byte-identical files. --stages cam (or saliency)
runs one stage alone; --stages fuse re-fuses stored maps (e.g. with other gammas).
With --launcher pytorch each rank takes every world_size-th image.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist
from PIL import Image
from tqdm import tqdm

from wsss_mm.apis import InputError, PseudoLabelPipeline, read_rgb
from wsss_mm.datasets.voc import (VOC_CLASSES, VOC_PALETTE, labels_from_mask, labels_from_xml,
                                  read_split)
from wsss_mm.utils.config_check import PSEUDO_KEYS, apply_cfg_options
from wsss_mm.utils.io import (remove_stale_temp_files, save_json_atomic, save_npz_atomic,
                              save_png_atomic)
from wsss_mm.utils.setup_env import init_cpu_distributed, register_all_modules
from wsss_mm.visualization import make_panel



# stage -> (output folder, suffix), in pipeline order
STAGE_OUTPUTS = {'cam': ('cams', '.npz'), 'saliency': ('saliency', '.png'),
                 'fuse': ('pseudo_labels', '.png')}
STAGES = tuple(STAGE_OUTPUTS)


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
    """Image-level labels of one image from its XML (or mask, if configured).

    A file without any of the classes raises, naming that file (not the image).
    """
    root = data_cfg['data_root']
    if data_cfg.get('label_source', 'xml') == 'mask':
        path = osp.join(root, data_cfg.get('seg_map_dir', 'SegmentationClassAug'), img_id + '.png')
        labels = labels_from_mask(path)
    else:
        path = osp.join(root, 'Annotations', img_id + '.xml')
        labels = labels_from_xml(path, VOC_CLASSES)
    if not labels.any():
        raise InputError(f'{path} has no object of the {len(VOC_CLASSES)} classes '
                         f'(image {img_id} has no image-level labels)')
    return labels


def output_path(out: Dict[str, str], stage: str, img_id: str) -> str:
    """Where a stage stores its result for one image."""
    folder, suffix = STAGE_OUTPUTS[stage]
    return osp.join(out[folder], img_id + suffix)


def read_cam_file(path: str) -> Tuple[torch.Tensor, np.ndarray]:
    """Stored CAMs ([K, H, W] float32) and VOC class ids; a missing file names itself."""
    if not osp.isfile(path):
        raise InputError(f'missing CAM file {path} (run the cam stage first)')
    try:
        with np.load(path) as data:
            return torch.from_numpy(data['cams'].astype(np.float32)), data['class_ids']
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f'cannot read CAM file {path}: {err}') from err


def read_saliency_file(path: str) -> np.ndarray:
    """Stored 8-bit saliency [H, W]; a missing or unreadable file names itself."""
    if not osp.isfile(path):
        raise InputError(f'missing saliency file {path} (run the saliency stage first)')
    try:
        return np.asarray(Image.open(path).convert('L'))
    except OSError as err:
        raise InputError(f'cannot read saliency file {path}: {err}') from err


def process_image(pipeline: PseudoLabelPipeline, img_id: str, data_cfg: dict,
                  out: Dict[str, str], stages: List[str], vis: bool) -> None:
    """Run the requested stages of one image; each skips an output that exists.

    Fusion reads the stored CAMs and saliency, so labels fused in one run and
    labels fused later with ``--stages fuse`` are identical.
    """
    root = data_cfg['data_root']
    img_path = osp.join(root, data_cfg.get('img_dir', 'JPEGImages'), img_id + '.jpg')
    rgb = read_rgb(img_path)
    labels = load_item_labels(data_cfg, img_id)
    cam_path = output_path(out, 'cam', img_id)
    sal_path = output_path(out, 'saliency', img_id)
    if 'cam' in stages and not osp.isfile(cam_path):
        cams, class_ids = pipeline.attention(rgb, labels)
        save_npz_atomic(cam_path, cams=cams.numpy().astype(np.float16), class_ids=class_ids)
    if 'saliency' in stages and not osp.isfile(sal_path):
        save_png_atomic(sal_path, pipeline.saliency(rgb))
    if 'fuse' not in stages:
        return
    cams, class_ids = read_cam_file(cam_path)
    saliency = read_saliency_file(sal_path)
    if cams.shape[1:] != rgb.shape[:2] or saliency.shape != rgb.shape[:2]:
        raise InputError(f'size mismatch for {img_id}: image {rgb.shape[:2]} ({img_path}), '
                         f'CAM {tuple(cams.shape[1:])} ({cam_path}), saliency '
                         f'{saliency.shape} ({sal_path})')
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
    save_png_atomic(output_path(out, 'fuse', img_id), pseudo, VOC_PALETTE)


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args.cfg_options, PSEUDO_KEYS, 'gen_pseudo')
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
    report_path = osp.join(args.work_dir, 'gen_pseudo_report.json')
    if rank == 0:
        for folder in out.values():
            remove_stale_temp_files(folder)
        # the report always describes the last run: 'running' until it finishes or stops
        save_json_atomic(report_path, dict(status='running', images=len(ids)))
    barrier()
    todo = [i for i in ids[rank::world_size]
            if not all(osp.isfile(output_path(out, stage, i)) for stage in stages)]
    failures, done, img_id = [], 0, None
    try:
        pipeline = PseudoLabelPipeline.from_config(cfg, args.classifier_checkpoint,
                                                   device=device)
        for img_id in tqdm(todo, desc=f'pseudo labels (rank {rank})', disable=rank != 0,
                           dynamic_ncols=True):
            try:
                process_image(pipeline, img_id, data_cfg, out, stages, args.vis)
                done += 1
            except (InputError, ValueError) as err:
                if on_error == 'raise':
                    raise SystemExit(f'gen_pseudo: {err}') from err
                failures.append(dict(img_id=img_id, error=str(err)))
    except BaseException as err:  # bad input in raise mode, an error, Ctrl-C: say where
        save_json_atomic(report_path, dict(
            status='stopped', images=len(ids), rank=rank, stopped_at=img_id,
            error=str(err) or type(err).__name__, processed_this_run=done, failures=failures))
        raise
    gathered = all_gather_object(dict(failures=failures, attempted=len(todo)))
    if rank == 0:
        failed = sorted((f for part in gathered for f in part['failures']),
                        key=lambda f: f['img_id'])
        attempted = sum(part['attempted'] for part in gathered)
        report = dict(status='finished', images=len(ids),
                      processed_this_run=attempted - len(failed),
                      skipped_already_done=len(ids) - attempted, failures=failed)
        save_json_atomic(report_path, report)
        for failure in failed:
            print(f'[gen_pseudo] skipped {failure["img_id"]}: {failure["error"]}')
        print(f'[gen_pseudo] {report["processed_this_run"]} images done, '
              f'{report["skipped_already_done"]} already done, {len(failed)} failed')
    barrier()


if __name__ == '__main__':
    main()
