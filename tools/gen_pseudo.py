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
  boundary/<id>.npz         the boundary cue (float16, stride 4), or
  affinity/<id>.npz         CLIP-ES's attention affinity + grid seeds (from the seeds' forward)
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

Each stage folder records what made its files (<folder>/.stage_record.json,
:mod:`wsss_mm.io.stage_record`): the config values the stage reads (seeds: ``model``,
``cam_*``; cue: ``<cue>_*``, or the seeds' keys and checkpoint for a cue of the seeds'
forward; labels: ``refiner``; each with ``pseudo_dataset``), the
sha256 of every checkpoint it reads, the records of the stages it reads (labels: seeds
and cue), the image ids and the wsss_mm version. On start each stage it runs compares:
  same record        resume (skip the images that are done)
  labels changed     relabel every image (and redraw --vis): the threshold sweep
                     ``--stages refine --cfg-options refiner.gamma1=0.6`` works in place
  seeds/cue changed  stop before writing anything, naming each difference; --overwrite
  or no record       recomputes the stages it runs and clears every stage made from them
                     (a new --work-dir keeps both)
The classifier needs --classifier-checkpoint, a cue network without weights of its own
(IRNet; a saliency detector without an init_cfg checkpoint and with parameters)
--cue-checkpoint; --random-weights allows random networks (smoke tests).
With --launcher pytorch each rank takes every world_size-th image.
--seeds-from DIR takes the seeds (cams/) of another work dir instead of computing them, where
its seeds' record equals this run's (same seeds config, classifier checkpoint and images):
the files are hard-linked (or copied atomically); otherwise it says why and computes them.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Mapping, Optional, Tuple

# OpenMP threads waiting for work sleep instead of spinning, so the networks' idle threads
# leave the cores to the refine workers (2 cores, CRF job: the pipeline 1.3x -> 1.66x the
# serial loop); read when torch loads OpenMP, so before the import. The numerics stay.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist  # noqa: E402

from wsss_mm.apis import PseudoLabelPipeline, seeds_cue  # noqa: E402
from wsss_mm.apis.pseudo_label_runner import (PseudoLabelRunner, RefineWorkerDied,  # noqa: E402
                                              default_loader_workers, default_refine_workers)
from wsss_mm.io import (InputError, WorkDirLayout, clear_stage, make_record,  # noqa: E402
                        pseudo_stage_config, read_record, record_digest, stage_files,
                        stage_state, write_record)
from wsss_mm.registry import DATASETS, MODELS, REFINERS  # noqa: E402
from wsss_mm.utils.config_check import (PSEUDO_KEYS, CfgOptionsAction,  # noqa: E402
                                         apply_cfg_options)
from wsss_mm.utils.io import atomic_write_bytes, save_json_atomic  # noqa: E402
from wsss_mm.utils.setup_env import (init_cpu_distributed, register_all_modules,  # noqa: E402
                                     release_distributed)

STAGES = ('cam', 'cue', 'refine')
#: layout stage -> the layout stages made from its files (cleared when it is recomputed)
def downstream(stage: str, cue_of_seeds: Optional[str]) -> Tuple[str, ...]:
    """The layout stages made from a stage's files (cleared when it is recomputed)."""
    if stage == 'cam':
        return (*((cue_of_seeds,) if cue_of_seeds else ()), 'relation', 'pseudo', 'vis')
    return ('vis',) if stage == 'pseudo' else ('pseudo', 'vis')


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
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the outputs of the stages it runs (and of every stage '
                        'made from them) and compute them again')
    parser.add_argument('--random-weights', action='store_true',
                        help='allow networks without a checkpoint (randomly initialised: '
                        'smoke tests only; by default a missing checkpoint is an error)')
    parser.add_argument('--on-error', choices=['raise', 'skip'],
                        help='bad input: stop (raise) or skip and report (default: config)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--refine-workers', type=int, default=default_refine_workers(),
                        help='refiner + label-writing worker processes, overlapping with the '
                        'networks (default: one per core of this process); 0 = the serial '
                        'loop, one image at a time')
    parser.add_argument('--serial', action='store_true', help='same as --refine-workers 0')
    parser.add_argument('--seeds-from', help="another gen_pseudo work dir: take its seeds "
                        "(cams/) where their record equals this run's instead of computing them")
    parser.add_argument('--loader-workers', type=int, default=default_loader_workers(),
                        help='processes decoding images ahead of the networks (pipeline only)')
    parser.add_argument('--network-threads', type=int,
                        help='torch threads of the networks in the pipeline (default: torch\'s, '
                        'as the serial loop; fewer, e.g. cores - refine workers, is faster on a '
                        'CPU, but the networks\' float sums may round differently, so the files '
                        'can differ in a last bit from a run with another count)')
    parser.add_argument('--saliency-batch', type=int, default=1,
                        help='images per call of the saliency cue network (pipeline only; '
                        'detectors with a fixed input size batch across images)')
    return parser.parse_args()


def init_checkpoints(section, key: str = '', in_init: bool = False) -> Dict[str, str]:
    """``init_cfg`` checkpoints of a config section: dotted key -> path (e.g.
    ``saliency_generator.detector.init_cfg.checkpoint``), at any depth."""
    found = {}
    if isinstance(section, Mapping):
        for name, value in section.items():
            path = f'{key}.{name}' if key else name
            if in_init and name == 'checkpoint' and isinstance(value, str):
                found[path] = value
            else:
                found.update(init_checkpoints(value, path, name == 'init_cfg'))
    elif isinstance(section, (list, tuple)):
        for i, value in enumerate(section):
            found.update(init_checkpoints(value, f'{key}.{i}', in_init))
    return found


def cue_has_weights(cfg: Config, cue: str) -> bool:
    """Whether the cue's network has weights without --cue-checkpoint: a saliency detector
    with an ``init_cfg`` checkpoint or without parameters (e.g. RobustBackgroundDetector);
    IRNet's boundary branch never (its backbone's ImageNet weights do not make one)."""
    if cue == 'boundary':
        return False
    if cue != 'saliency':  # a cue this check does not know: its config decides
        return True
    detector = cfg.saliency_generator.get('detector')
    if not isinstance(detector, Mapping) or init_checkpoints(detector):
        return True
    return not any(p.numel() for p in MODELS.build(detector).parameters())


def check_weights(cfg: Config, args: argparse.Namespace, stages: List[str],
                  cue: Optional[str]) -> None:
    """Refuse to run a network stage with randomly initialised weights (unless
    --random-weights): the classifier always needs a checkpoint, a cue network unless it
    has weights of its own."""
    if args.random_weights:
        return
    if 'cam' in stages and not args.classifier_checkpoint:
        sys.exit('gen_pseudo: no --classifier-checkpoint: the cam stage would run a randomly '
                 'initialised classifier. Train one with tools/train.py and pass its '
                 'checkpoint (--random-weights allows it, for smoke tests only)')
    if cue and 'cue' in stages and not args.cue_checkpoint and not cue_has_weights(cfg, cue):
        network = cfg.get(f'{cue}_generator', {})
        network = network.get('detector', network) if cue == 'saliency' else network
        sys.exit(f'gen_pseudo: no --cue-checkpoint: the {cue} cue\'s network '
                 f'({network.get("type")}) has no weights of its own (no init_cfg checkpoint) '
                 f'and would run randomly initialised. Pass its trained checkpoint '
                 f'(--random-weights allows it, for smoke tests only)')


def stage_records(cfg: Config, args: argparse.Namespace, layout: WorkDirLayout,
                  ids: List[str], stages: List[str], cue: Optional[str]) -> Dict[str, dict]:
    """Layout stage -> the record of each stage this run runs (:mod:`wsss_mm.io.stage_record`),
    in pipeline order. The labels' record names the records of the seeds and cue it reads
    (this run's, or those stored in the work dir)."""
    info = dict(config=args.config)
    records = {}
    if 'cam' in stages:
        records['cam'] = make_record('cam', pseudo_stage_config(cfg, 'cam'),
                                     checkpoints=dict(classifier=args.classifier_checkpoint),
                                     split_ids=ids, info=info)
    if cue and 'cue' in stages and seeds_cue(cfg, cue):  # the seeds' forward makes it
        records[cue] = make_record(cue, pseudo_stage_config(cfg, cue, cue_of_seeds=cue),
                                   checkpoints=dict(classifier=args.classifier_checkpoint),
                                   split_ids=ids, info=info)
    elif cue and 'cue' in stages:
        section = {k: v for k, v in cfg.items() if k.startswith(f'{cue}_')}
        checkpoints = {k: v for k, v in init_checkpoints(section).items() if osp.isfile(v)}
        checkpoints[f'{cue} (--cue-checkpoint)'] = args.cue_checkpoint
        records[cue] = make_record(cue, pseudo_stage_config(cfg, cue), checkpoints=checkpoints,
                                   split_ids=ids, info=info)
    if 'refine' in stages:
        upstream = {stage: record_digest(records.get(stage) or read_record(layout.folder(stage)))
                    for stage in ('cam', cue) if stage}
        records['pseudo'] = make_record('pseudo', pseudo_stage_config(cfg, 'pseudo'),
                                        upstream=upstream, split_ids=ids,
                                        info=dict(info, refiner=cfg.refiner.get('type')))
    return records


def plan_stages(layout: WorkDirLayout, records: Dict[str, dict], stages: List[str],
                cue: Optional[str], cue_of_seeds: Optional[str], overwrite: bool) -> List[str]:
    """The layout stages whose outputs must go before this run (what it recomputes and
    every stage made from them), from the stored records; exits, before anything is
    written, where the outputs of a network stage (seeds, cue) were made from other inputs
    or without a record, naming the differences and the way on."""
    clear, problems, notes = [], [], []
    for stage, record in records.items():
        folder = layout.folder(stage)
        state, differences = stage_state(folder, record)
        if overwrite or (stage == 'pseudo' and state == 'changed'):
            clear += [s for s in (stage, *downstream(stage, cue_of_seeds)) if s not in clear]
            if state == 'changed':
                notes.append(f'[gen_pseudo] {folder}: recomputing every image, its inputs '
                             'changed: ' + '; '.join(differences))
        elif state == 'unrecorded':
            problems.append(f'{folder} holds outputs without a record of what made them '
                            '(an older wsss_mm, or copied there)')
        elif state == 'changed':
            problems.append(f'{folder} was made from other inputs:\n    '
                            + '\n    '.join(differences))
    if 'refine' in stages:  # the stored seeds / cue it reads must say what made them
        for stage in ('cam', cue):
            folder = stage and layout.folder(stage)
            if stage and stage not in records and read_record(folder) is None and \
                    stage_files(folder):
                problems.append(f'{folder} holds outputs without a record of what made them '
                                f'(an older wsss_mm, or copied there): recompute them with '
                                f'--stages {"cam" if stage == "cam" else "cue"} --overwrite')
    if problems:
        sys.exit('gen_pseudo: ' + '\n'.join(problems) + '\nNothing was written. Rerun with '
                 '--overwrite to compute these stages again (the stages made from them are '
                 'recomputed too), or choose a new --work-dir.')
    for note in notes:
        print(note)
    return clear


def take_seeds(source: str, layout: WorkDirLayout, record: Mapping, ids: List[str]) -> int:
    """Link (or copy atomically) the CAM files of work dir ``source`` into ``layout``
    where the seeds' record stored there equals ``record`` (this run's), so the cam stage
    finds them done; otherwise print why not. Returns the number of files taken."""
    origin_layout = WorkDirLayout(source)
    state, differences = stage_state(origin_layout.folder('cam'), record)
    if state != 'same':
        why = {'new': 'it holds no seeds', 'unrecorded': 'its seeds have no record'}.get(
            state, 'its seeds were made from other inputs: ' + '; '.join(differences))
        print(f'[gen_pseudo] --seeds-from {source}: not used, {why}; computing the seeds')
        return 0
    taken = 0
    for img_id in ids:
        origin, target = origin_layout.path('cam', img_id), layout.path('cam', img_id)
        if osp.isfile(origin) and not osp.isfile(target):
            try:
                os.link(origin, target)
            except OSError:  # another file system: copy, atomically
                with open(origin, 'rb') as f:
                    atomic_write_bytes(target, f.read())
            taken += 1
    print(f'[gen_pseudo] seeds: {taken} CAM files taken from {origin_layout.folder("cam")} '
          '(its record matches)')
    return taken


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

    cue = REFINERS.build(cfg.refiner).cue
    check_weights(cfg, args, stages, cue)
    dataset = DATASETS.build(cfg.pseudo_dataset)
    ids = [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))]
    layout = WorkDirLayout(args.work_dir)
    try:  # every rank decides alike from the stored records; rank 0 acts
        for stage in WorkDirLayout.STAGES:  # refuses stage folders linked out of the work dir
            layout.folder(stage)
        records = stage_records(cfg, args, layout, ids, stages, cue)
        clear = plan_stages(layout, records, stages, cue, seeds_cue(cfg, cue), args.overwrite)
    except (InputError, ValueError, FileNotFoundError) as err:
        sys.exit(f'gen_pseudo: {err}')
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
        if rank == 0:
            for stage in clear:
                removed = clear_stage(layout.folder(stage))
                if removed:
                    print(f'[gen_pseudo] deleted {removed} files of {layout.folder(stage)}')
            for stage, record in records.items():
                write_record(layout.folder(stage), record)
            if args.seeds_from and 'cam' in records:
                take_seeds(args.seeds_from, layout, records['cam'], ids)
        barrier()
        outputs = dict(cam='cam', cue=cue, refine='pseudo')
        todo_stages = [s for s in stages if outputs[s]]
        todo = [i for i in range(rank, len(ids), world_size)
                if not all(osp.isfile(layout.path(outputs[s], ids[i])) for s in todo_stages)]
        runner = PseudoLabelRunner(pipeline, dataset, layout, stages, vis=args.vis,
                                   on_error=on_error,
                                   refine_workers=0 if args.serial else args.refine_workers,
                                   loader_workers=args.loader_workers,
                                   saliency_batch=args.saliency_batch,
                                   network_threads=args.network_threads)
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
                                      busy=summary.busy, capped=pipeline.capped))
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
                      network_threads=runner.network_threads if runner.refine_workers else None,
                      refiner=repr(pipeline.refiner),
                      records={stage: record_digest(read_record(layout.folder(stage)))
                               for stage in ('cam', cue, 'pseudo')
                               if stage and read_record(layout.folder(stage))},
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
