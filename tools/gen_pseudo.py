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
run resumes where it stopped and gives byte-identical files.

By default the stages run as a pipeline (wsss_mm.apis.pseudo_label_runner):
--loader-workers processes decode the images ahead, this process runs the networks
(the saliency cue in batches of --saliency-batch images), --refine-workers processes
refine and write the labels meanwhile; --serial (= --refine-workers 0) handles one
image at a time. Both write the same files. The report adds images_per_second and
each stage's busy_fraction. --stages cam (or cue) runs
one stage alone (IRN: cam, then train IRNet on the CAMs, then cue,refine); --stages
refine re-refines stored maps (e.g. with other thresholds).
With --launcher pytorch each rank takes every world_size-th image.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist

from wsss_mm.apis import PseudoLabelPipeline
from wsss_mm.apis.pseudo_label_runner import (PseudoLabelRunner, RefineWorkerDied,
                                              default_loader_workers, default_refine_workers)
from wsss_mm.io import InputError, WorkDirLayout
from wsss_mm.registry import DATASETS
from wsss_mm.utils.config_check import PSEUDO_KEYS, apply_cfg_options
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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--refine-workers', type=int, default=default_refine_workers(),
                        help='refiner + label-writing worker processes, overlapping with the '
                        'networks (default: one per core of this process); 0 = the serial '
                        'loop, one image at a time')
    parser.add_argument('--serial', action='store_true', help='same as --refine-workers 0')
    parser.add_argument('--loader-workers', type=int, default=default_loader_workers(),
                        help='processes decoding images ahead of the networks (pipeline only)')
    parser.add_argument('--saliency-batch', type=int, default=1,
                        help='images per call of the saliency cue network (pipeline only; '
                        'detectors with a fixed input size batch across images)')
    return parser.parse_args()


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
    runner = None
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
        runner = PseudoLabelRunner(pipeline, dataset, layout, stages, vis=args.vis,
                                   on_error=on_error,
                                   refine_workers=0 if args.serial else args.refine_workers,
                                   loader_workers=args.loader_workers,
                                   saliency_batch=args.saliency_batch)
        try:
            summary = runner.run(todo, progress=rank == 0)
        except (InputError, ValueError, RefineWorkerDied) as err:  # on_error='raise', a kill
            raise SystemExit(f'gen_pseudo: {err}') from err
    except BaseException as err:  # bad input in raise mode, an error, Ctrl-C: say where
        summary = runner.summary if runner else None
        save_json_atomic(report_path, dict(
            status='stopped', images=len(ids), rank=rank,
            stopped_at=runner.current if runner else None,
            error=str(err) or type(err).__name__,
            processed_this_run=summary.done if summary else 0,
            failures=summary.failures if summary else [],
            seconds_per_image=previous.get('seconds_per_image', {})))
        raise
    gathered = all_gather_object(dict(failures=summary.failures, attempted=len(todo),
                                      seconds=dict(summary.seconds),
                                      counts=dict(summary.counts), elapsed=summary.elapsed,
                                      busy=summary.busy))
    if rank == 0:
        failed = sorted((f for part in gathered for f in part['failures']),
                        key=lambda f: f['img_id'])
        attempted = sum(part['attempted'] for part in gathered)
        report = dict(status='finished', images=len(ids),
                      processed_this_run=attempted - len(failed),
                      skipped_already_done=len(ids) - attempted, failures=failed,
                      seconds_per_image=stage_seconds_per_image(gathered, previous),
                      images_per_second=round(attempted / max(max(
                          part['elapsed'] for part in gathered), 1e-9), 3),
                      busy_fraction=gathered[0]['busy'] if world_size == 1 else
                      [part['busy'] for part in gathered],
                      refine_workers=runner.refine_workers,
                      refiner=repr(pipeline.refiner))
        save_json_atomic(report_path, report)
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
