"""Generate pseudo labels for a split: Grad-CAM → erasing saliency → Algorithm 1.

The split is the config's ``pseudo_dataset``, a registered image-level dataset
(VOC, COCO ...; its ``_base_`` dataset config sets it). Writes under the work dir
(layout and formats: :mod:`wsss_mm.io.artifacts`):
  cams/<id>.npz             float16 maps of the image's classes + their label values
  saliency/<id>.png         8-bit erasing saliency S = max(S0, S1, S2)
  pseudo_labels/<id>.png    palette PNG of the dataset's label values (255 = ignore band)
  vis/<id>.png              with --vis: image | CAM per class | saliency | pseudo label | GT
  gen_pseudo_report.json    the last run: status running / finished / stopped (where and
                            why), images done / skipped, failures with their reason

Every file is written atomically and each stage skips outputs that exist, so a killed
run resumes where it stopped and gives byte-identical files. --stages cam (or saliency)
runs one stage alone; --stages fuse re-fuses stored maps (e.g. with other gammas).
With --launcher pytorch each rank takes every world_size-th image.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist
from tqdm import tqdm

from wsss_mm.apis import PseudoLabelPipeline
from wsss_mm.io import (InputError, WorkDirLayout, read_cams, read_optional_label_map,
                        read_saliency, write_cams, write_label_map, write_overlay,
                        write_saliency)
from wsss_mm.registry import DATASETS
from wsss_mm.utils.config_check import PSEUDO_KEYS, apply_cfg_options
from wsss_mm.utils.io import save_json_atomic
from wsss_mm.utils.setup_env import init_cpu_distributed, register_all_modules

STAGES = ('cam', 'saliency', 'fuse')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='pseudo-label config (classifier + CAM + saliency + '
                        'fuser + pseudo_dataset)')
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


def process_image(pipeline: PseudoLabelPipeline, dataset, index: int, layout: WorkDirLayout,
                  stages: List[str], vis: bool) -> None:
    """Run the requested stages of one image of ``dataset``; each skips an output that exists.

    Fusion reads the stored CAMs and saliency, so labels fused in one run and
    labels fused later with ``--stages fuse`` are identical.
    """
    label_error = dataset.get_data_info(index).get('label_error')
    if label_error:
        raise InputError(label_error)
    data = dataset[index]
    sample = data['data_samples']
    img_id, img_path = sample.img_id, sample.img_path
    cam_path, sal_path = layout.path('cam', img_id), layout.path('saliency', img_id)
    if 'cam' in stages and not osp.isfile(cam_path):
        write_cams(cam_path, *pipeline.attention(data))
    if 'saliency' in stages and not osp.isfile(sal_path):
        write_saliency(sal_path, pipeline.saliency(data))
    if 'fuse' not in stages:
        return
    cams, class_ids = read_cams(cam_path)
    saliency = read_saliency(sal_path)
    size = tuple(sample.ori_shape)
    if tuple(cams.shape[1:]) != size or saliency.shape != size:
        raise InputError(f'size mismatch for {img_id}: image {size} ({img_path}), '
                         f'CAM {tuple(cams.shape[1:])} ({cam_path}), saliency '
                         f'{saliency.shape} ({sal_path})')
    pseudo = pipeline.fuse(cams, class_ids, saliency)
    meta = dataset.metainfo
    if vis:
        panel_labels = {'pseudo label': pseudo}
        gt = read_optional_label_map(dataset.get_data_info(index).get('seg_map_path'))
        if gt is not None:
            panel_labels['GT'] = gt
        names = dict(zip(meta['label_ids'], meta['classes']))
        rgb = data['inputs'].flip(0).permute(1, 2, 0).numpy()
        write_overlay(layout.path('vis', img_id), rgb,
                      {names[int(c)]: m.numpy() for c, m in zip(class_ids, cams)}, saliency,
                      panel_labels, meta['palette'])
    # written last: its presence marks the image as done
    write_label_map(layout.path('fuse', img_id), pseudo, meta['palette'])


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args.cfg_options, PSEUDO_KEYS, 'gen_pseudo')
    stages = [s for s in args.stages.split(',') if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        sys.exit(f'--stages: unknown stage(s) {sorted(unknown)}; choose from {STAGES}')
    on_error = args.on_error or cfg.get('pseudo_on_error', 'raise')
    init_cpu_distributed(None, args.launcher)
    if args.launcher != 'none' and not torch.distributed.is_initialized():
        init_dist(args.launcher)
    rank, world_size = get_dist_info()
    device = args.device
    if device == 'cuda' and world_size > 1:
        device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'

    dataset = DATASETS.build(cfg.pseudo_dataset)
    ids = [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))]
    layout = WorkDirLayout(args.work_dir)
    report_path = osp.join(args.work_dir, 'gen_pseudo_report.json')
    if rank == 0:
        layout.remove_stale_temp_files()
        # the report always describes the last run: 'running' until it finishes or stops
        save_json_atomic(report_path, dict(status='running', images=len(ids)))
    barrier()
    todo = [i for i in range(rank, len(ids), world_size)
            if not all(osp.isfile(layout.path(stage, ids[i])) for stage in stages)]
    failures, done, img_id = [], 0, None
    try:
        pipeline = PseudoLabelPipeline.from_config(cfg, args.classifier_checkpoint,
                                                   dataset.metainfo['label_ids'], device=device)
        for index in tqdm(todo, desc=f'pseudo labels (rank {rank})', disable=rank != 0,
                          dynamic_ncols=True):
            img_id = ids[index]
            try:
                process_image(pipeline, dataset, index, layout, stages, args.vis)
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
