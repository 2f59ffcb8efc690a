"""Generate pseudo labels for a split: seeds (CAMs) -> [cue] -> refiner.

The config names the method: the classifier and ``cam_generator`` make the seeds, the
``refiner`` (Algorithm 1 fusion, IRN's random walk, dense CRF, a threshold ...) turns
them into labels, reading the cue it names (``refiner.cue``: ``saliency`` from
``saliency_generator``, ``boundary`` from ``boundary_generator`` = IRNet with
--cue-checkpoint). The split is the config's ``pseudo_dataset``, a registered
image-level dataset (VOC, COCO ...). Writes under the work dir (layout and formats:
:mod:`wsss_mm.io.artifacts`):
  cams/<id>.npz             float16 maps of the image's classes + their label values
  saliency/<id>.png         the saliency cue (8-bit), or
  boundary/<id>.npz         the boundary cue (float16, stride 4)
  pseudo_labels/<id>.png    palette PNG of the dataset's label values (255 = ignore)
  vis/<id>.png              with --vis: image | CAM per class | saliency | pseudo label | GT
  gen_pseudo_report.json    the last run: status running / finished / stopped (where and
                            why), images done / skipped, failures with their reason, and
                            seconds per image of each stage

Every file is written atomically and each stage skips outputs that exist, so a killed
run resumes where it stopped and gives byte-identical files. --stages cam (or cue) runs
one stage alone (IRN: cam, then train IRNet on the CAMs, then cue,refine); --stages
refine re-refines stored maps (e.g. with other thresholds).
With --launcher pytorch each rank takes every world_size-th image.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from collections import defaultdict
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist
from tqdm import tqdm

from wsss_mm.apis import PseudoLabelPipeline
from wsss_mm.io import (InputError, WorkDirLayout, read_cams, read_cue, read_optional_label_map,
                        write_cams, write_cue, write_label_map, write_overlay)
from wsss_mm.registry import DATASETS
from wsss_mm.utils.config_check import PSEUDO_KEYS, CfgOptionsAction, apply_cfg_options
from wsss_mm.utils.io import save_json_atomic
from wsss_mm.utils.setup_env import (init_cpu_distributed, register_all_modules,
                                     release_distributed)

STAGES = ('cam', 'cue', 'refine')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='pseudo-label config (classifier + cam_generator + '
                        'refiner [+ its cue generator] + pseudo_dataset)')
    parser.add_argument('--classifier-checkpoint', help='trained classifier checkpoint')
    parser.add_argument('--cue-checkpoint', help="checkpoint of the cue's network (e.g. the "
                        'trained IRNet), loaded strictly')
    parser.add_argument('--work-dir', required=True, help='output folder')
    parser.add_argument('--stages', default=','.join(STAGES),
                        help='comma list of cam,cue,refine; stages left out read their '
                        'results from the work dir')
    parser.add_argument('--vis', action='store_true', help='write side-by-side overlays')
    parser.add_argument('--on-error', choices=['raise', 'skip'],
                        help='bad input: stop (raise) or skip and report (default: config)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    return parser.parse_args()


def process_image(pipeline: PseudoLabelPipeline, dataset, index: int, layout: WorkDirLayout,
                  stages: List[str], vis: bool, seconds: Dict[str, float]) -> None:
    """Run the requested stages of one image of ``dataset``; each skips an output that exists.

    Refinement reads the stored seeds and cue, so labels refined in one run and
    labels refined later with ``--stages refine`` are identical. ``seconds``
    accumulates the time of each stage.
    """
    label_error = dataset.get_data_info(index).get('label_error')
    if label_error:
        raise InputError(label_error)
    data = dataset[index]
    sample = data['data_samples']
    img_id, img_path = sample.img_id, sample.img_path
    cue = pipeline.refiner.cue
    cam_path = layout.path('cam', img_id)
    cue_path = layout.path(cue, img_id) if cue else None
    start = time.perf_counter()
    if 'cam' in stages and not osp.isfile(cam_path):
        write_cams(cam_path, *pipeline.attention(data))
        seconds['cam'] += time.perf_counter() - start
    start = time.perf_counter()
    if cue and 'cue' in stages and not osp.isfile(cue_path):
        write_cue(cue_path, cue, pipeline.cue(data))
        seconds['cue'] += time.perf_counter() - start
    if 'refine' not in stages:
        return
    start = time.perf_counter()
    cams, class_ids = read_cams(cam_path)
    cue_map = read_cue(cue_path, cue) if cue else None
    size = tuple(sample.ori_shape)
    if tuple(cams.shape[1:]) != size:
        raise InputError(f'size mismatch for {img_id}: image {size} ({img_path}), '
                         f'CAM {tuple(cams.shape[1:])} ({cam_path})')
    rgb = data['inputs'].flip(0).permute(1, 2, 0).numpy()
    try:
        pseudo = pipeline.refine(cams, class_ids, rgb, cue_map)
    except ValueError as err:  # e.g. a cue of another size: name the files
        raise InputError(f'{img_id}: {err} (CAM {cam_path}, cue {cue_path})') from err
    seconds['refine'] += time.perf_counter() - start
    meta = dataset.metainfo
    if vis:
        panel_labels = {'pseudo label': pseudo}
        gt = read_optional_label_map(dataset.get_data_info(index).get('seg_map_path'))
        if gt is not None:
            panel_labels['GT'] = gt
        names = dict(zip(meta['label_ids'], meta['classes']))
        write_overlay(layout.path('vis', img_id), rgb,
                      {names[int(c)]: m.numpy() for c, m in zip(class_ids, cams)},
                      cue_map if cue == 'saliency' else None, panel_labels, meta['palette'])
    # written last: its presence marks the image as done
    write_label_map(layout.path('pseudo', img_id), pseudo, meta['palette'])


def stage_seconds_per_image(gathered: List[dict], previous: dict) -> Dict[str, float]:
    """Mean seconds per image of each stage run this time (all ranks); stages that did
    no work keep the value of the previous report, so resumed jobs keep their timing."""
    timing = dict(previous.get('seconds_per_image', {}))
    for stage in STAGES:
        count = sum(part['counts'].get(stage, 0) for part in gathered)
        if count:
            timing[stage] = sum(part['seconds'].get(stage, 0.0) for part in gathered) / count
    return timing


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
    previous = {}
    if osp.isfile(report_path):
        with open(report_path, encoding='utf-8') as f:
            previous = json.load(f)
    if rank == 0:
        layout.remove_stale_temp_files()
        # the report always describes the last run: 'running' until it finishes or stops
        save_json_atomic(report_path, dict(status='running', images=len(ids),
                                           seconds_per_image=previous.get('seconds_per_image',
                                                                          {})))
    barrier()
    failures, done, img_id = [], 0, None
    seconds: Dict[str, float] = defaultdict(float)
    counts: Dict[str, int] = defaultdict(int)
    try:
        pipeline = PseudoLabelPipeline.from_config(cfg, args.classifier_checkpoint,
                                                   dataset.metainfo['label_ids'],
                                                   cue_checkpoint=args.cue_checkpoint,
                                                   device=device)
        cue = pipeline.refiner.cue
        outputs = dict(cam='cam', cue=cue, refine='pseudo')
        todo_stages = [s for s in stages if outputs[s]]
        todo = [i for i in range(rank, len(ids), world_size)
                if not all(osp.isfile(layout.path(outputs[s], ids[i])) for s in todo_stages)]
        for index in tqdm(todo, desc=f'pseudo labels (rank {rank})', disable=rank != 0,
                          dynamic_ncols=True):
            img_id = ids[index]
            try:
                before = dict(seconds)
                process_image(pipeline, dataset, index, layout, stages, args.vis, seconds)
                for stage in seconds:
                    counts[stage] += seconds[stage] != before.get(stage)
                done += 1
            except (InputError, ValueError) as err:
                if on_error == 'raise':
                    raise SystemExit(f'gen_pseudo: {err}') from err
                failures.append(dict(img_id=img_id, error=str(err)))
    except BaseException as err:  # bad input in raise mode, an error, Ctrl-C: say where
        save_json_atomic(report_path, dict(
            status='stopped', images=len(ids), rank=rank, stopped_at=img_id,
            error=str(err) or type(err).__name__, processed_this_run=done, failures=failures,
            seconds_per_image=previous.get('seconds_per_image', {})))
        raise
    gathered = all_gather_object(dict(failures=failures, attempted=len(todo),
                                      seconds=dict(seconds), counts=dict(counts),
                                      capped=pipeline.capped))
    if rank == 0:
        failed = sorted((f for part in gathered for f in part['failures']),
                        key=lambda f: f['img_id'])
        attempted = sum(part['attempted'] for part in gathered)
        report = dict(status='finished', images=len(ids),
                      processed_this_run=attempted - len(failed),
                      skipped_already_done=len(ids) - attempted, failures=failed,
                      seconds_per_image=stage_seconds_per_image(gathered, previous),
                      refiner=repr(pipeline.refiner),
                      cam_capped=dict(max_side=pipeline.cam_max_side, images=sorted(
                          i for part in gathered for i in part['capped'])))
        save_json_atomic(report_path, report)
        if report['cam_capped']['images']:
            print(f'[gen_pseudo] CAMs of {len(report["cam_capped"]["images"])} image(s) '
                  f'computed at a long side of {pipeline.cam_max_side} px (cam_max_side) and '
                  f'resized back: {", ".join(report["cam_capped"]["images"][:10])}')
        for failure in failed:
            print(f'[gen_pseudo] skipped {failure["img_id"]}: {failure["error"]}')
        print(f'[gen_pseudo] {report["processed_this_run"]} images done, '
              f'{report["skipped_already_done"]} already done, {len(failed)} failed')
    barrier()


if __name__ == '__main__':
    try:
        main()
    finally:  # a live gloo group can abort a rank at interpreter exit
        release_distributed()
