"""Score the CAMs, saliency and pseudo labels of tools/gen_pseudo.py against GT masks.

  python tools/eval_pseudo.py configs/xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py \
      --work-dir work_dirs/pseudo_voc12aug [--split train_aug]

The images and masks are the config's ``pseudo_eval_dataset`` (its ``_base_`` dataset
config): on VOC, train (1,464 ids) against SegmentationClass by default, the split on
which IRN, SEAM and MCTformer report seeds and pseudo labels. ``--split`` takes a name
of the config's ``pseudo_eval_splits`` (VOC: train, train_aug, val) or a split file;
``--gt-dir`` another mask folder. Every table and the JSON name the split and GT folder.
Prints markdown tables and writes <work-dir>/eval_pseudo.json (or --out).
The work dir's stage records (what gen_pseudo made them with) must match the config's
values (where the data lives aside): a work dir made with another config is refused,
naming each difference (one without records, e.g. labels made elsewhere, is scored with a
warning); the JSON names the recorded config and refiner.

--fusion-sweep (configs whose refiner is Algorithm 1, SaliencyFusionRefiner) also scores
Algorithm 1 from the stored CAMs and saliency at every (gamma1, gamma2) of a grid (0.05 to
0.6 by 0.05 x 0.06, 0.1 to 0.6; --gamma1 / --gamma2 give others) and saliency alone over the
gamma1 values: choose the thresholds on a split with GT that you do not report (e.g. val),
then label the reported split with them (--cfg-options refiner.gamma1=.. refiner.gamma2=..
for gen_pseudo). Written under "fusion" in the JSON.
"""
import argparse
import json
import os.path as osp
import warnings
from typing import Dict, Optional

from mmengine.config import Config

from wsss_mm.apis import seeds_cue
from wsss_mm.evaluation import (FUSION_GAMMA1, FUSION_GAMMA2, evaluate_cams, evaluate_fusion,
                                evaluate_pseudo_labels, evaluate_saliency, format_table)
from wsss_mm.io import (CUES, WorkDirLayout, config_differences, pseudo_stage_config,
                        read_record, stage_files)
from wsss_mm.registry import DATASETS
from wsss_mm.utils.config_check import EVAL_PSEUDO_KEYS, CfgOptionsAction, apply_cfg_options
from wsss_mm.utils.io import atomic_write_bytes
from wsss_mm.utils.setup_env import register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the pseudo-label config given to gen_pseudo.py')
    parser.add_argument('--work-dir', required=True, help='gen_pseudo output folder')
    parser.add_argument('--split', help='a name of pseudo_eval_splits (VOC: train, train_aug, '
                        'val) or a split file (relative to the data root, or absolute)')
    parser.add_argument('--gt-dir', help='GT mask folder, relative to the data root')
    parser.add_argument('--out', help='JSON file (default: <work-dir>/eval_pseudo.json)')
    parser.add_argument('--fusion-sweep', action='store_true',
                        help='score Algorithm 1 over a (gamma1, gamma2) grid and saliency alone '
                        'over gamma1 (needs cams/ and saliency/)')
    parser.add_argument('--gamma1', type=float, nargs='+', default=list(FUSION_GAMMA1))
    parser.add_argument('--gamma2', type=float, nargs='+', default=list(FUSION_GAMMA2))
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args()


def fusion_sweep(cfg: Config, layout: WorkDirLayout, items, class_names,
                 gamma1s, gamma2s) -> Dict[str, object]:
    """Algorithm 1 over the (gamma1, gamma2) grid, and saliency alone over gamma1 (at
    the config's gamma2), from the stored CAMs and saliency."""
    refiner = dict(cfg.get('refiner') or {})
    if refiner.get('type') != 'SaliencyFusionRefiner':
        raise SystemExit(f"--fusion-sweep: the config's refiner is {refiner.get('type')}, not "
                         'Algorithm 1 (SaliencyFusionRefiner)')
    for stage in ('cam', 'saliency'):
        if not layout.has(stage):
            raise SystemExit(f'--fusion-sweep: no {layout.folder(stage)} (run gen_pseudo '
                             '--stages cam,cue first)')
    gamma2 = refiner.get('gamma2', 0.06)
    return dict(
        algorithm1=evaluate_fusion(layout, items, class_names, gamma1s, gamma2s,
                                   refiner=refiner),
        saliency_only=evaluate_fusion(layout, items, class_names, gamma1s, [gamma2],
                                      attention=False, refiner=refiner))


def eval_dataset_config(cfg: Config, split: str, gt_dir: str) -> dict:
    """``pseudo_eval_dataset`` with the split / GT folder of the command line."""
    data_cfg = cfg.pseudo_eval_dataset.copy()
    named = cfg.get('pseudo_eval_splits', {})
    if split in named:
        split, default_gt = named[split]
        gt_dir = gt_dir or default_gt
    elif split and not osp.isfile(split) and not osp.isfile(
            osp.join(data_cfg['data_root'], split)):
        raise SystemExit(f'--split {split!r} is neither one of {sorted(named)} nor a file')
    if split:
        data_cfg['ann_file'] = split
    if gt_dir:
        data_cfg['data_prefix'] = dict(data_cfg.get('data_prefix') or {}, seg_map_path=gt_dir)
    data_cfg.update(with_seg_map=True, pipeline=[])
    return data_cfg


def check_recorded_config(cfg: Config, config: str, work_dir: str,
                          tool: str) -> Optional[dict]:
    """The labels' record of a gen_pseudo work dir (None without one), after checking
    that each of its stage folders records ``config``'s values for that stage (the data
    location aside); exits naming every difference. Folders without a record (labels of
    an older wsss_mm or of another code base) are scored with a warning."""
    layout = WorkDirLayout(work_dir)
    problems = []
    for stage in ('cam', *CUES, 'pseudo'):
        folder = layout.folder(stage)
        record = read_record(folder)
        if record is None:
            if stage_files(folder):
                warnings.warn(f'{tool}: {folder} has no record of what made it (not made by '
                              f'this gen_pseudo): it cannot be checked against {config}',
                              stacklevel=2)
            continue
        differences = config_differences(
            record, pseudo_stage_config(cfg, stage, cue_of_seeds=seeds_cue(cfg, stage)),
            ignore=('pseudo_dataset', ))
        if differences:
            problems.append(f'{folder} was made with another config than {config} (recorded: '
                            f'{record["info"].get("config")}):\n    '
                            + '\n    '.join(differences))
    if problems:
        raise SystemExit(f'{tool}: ' + '\n'.join(problems))
    return read_record(layout.folder('pseudo'))


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args.cfg_options, EVAL_PSEUDO_KEYS, 'eval_pseudo')
    dataset = DATASETS.build(eval_dataset_config(cfg, args.split, args.gt_dir))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    items = [(info['img_id'], info['seg_map_path']) for info in infos]
    class_names = dataset.metainfo['seg_classes']
    layout = WorkDirLayout(args.work_dir)
    labels_record = check_recorded_config(cfg, args.config, args.work_dir, 'eval_pseudo')
    protocol: Dict[str, object] = dict(split=dataset.ann_file, num_images=len(items),
                                       gt_dir=dataset.data_prefix['seg_map_path'])
    results: Dict[str, object] = dict(protocol=protocol)
    if labels_record:  # the method, as the work dir recorded it
        results['method'] = dict(config=labels_record['info'].get('config'),
                                 refiner=labels_record['depends']['config']['refiner'])
    if layout.has('pseudo'):
        results['pseudo_labels'] = evaluate_pseudo_labels(layout, items, class_names)
    if layout.has('cam'):
        results['cams'] = evaluate_cams(layout, items, class_names)
    if layout.has('saliency'):
        results['saliency'] = evaluate_saliency(layout, items, len(class_names))
    if args.fusion_sweep:
        results['fusion'] = fusion_sweep(cfg, layout, items, class_names, args.gamma1,
                                         args.gamma2)
    if not set(results) - {'protocol', 'method'}:
        raise SystemExit(f'nothing to evaluate in {args.work_dir} '
                         '(no pseudo_labels/, cams/ or saliency/)')
    where = (f"split {protocol['split']} ({protocol['num_images']} images), "
             f"GT {protocol['gt_dir']}")
    rows = []
    for name in class_names:
        row = [name]
        if 'pseudo_labels' in results:
            per = results['pseudo_labels']['per_class'][name]
            row += [f"{per['IoU']:.1f}", f"{per['precision']:.1f}", f"{per['recall']:.1f}"]
        if 'cams' in results:
            row.append(f"{results['cams']['best']['per_class'][name]['IoU']:.1f}")
        rows.append(row)
    header = ['class']
    if 'pseudo_labels' in results:
        header += ['pseudo IoU', 'precision', 'recall']
    if 'cams' in results:
        header.append(f"CAM IoU (t={results['cams']['best_threshold']:.2f})")
    if labels_record:
        print(f"Pseudo labels of {results['method']['config']} "
              f"({results['method']['refiner'].get('type')}, as recorded in {args.work_dir})\n")
    print(f'Per class, {where}\n')
    print(format_table(rows, header))
    summary = []
    if 'pseudo_labels' in results:
        summary.append(['pseudo labels mIoU', f"{results['pseudo_labels']['mIoU']:.2f}"])
    if 'cams' in results:
        cams = results['cams']
        summary.append([f"CAM mIoU (t={cams['fixed_threshold']:.2f})",
                        f"{cams['fixed']['mIoU']:.2f}"])
        summary.append([f"CAM mIoU (best t={cams['best_threshold']:.2f})",
                        f"{cams['best']['mIoU']:.2f}"])
    if 'saliency' in results:
        summary.append(['saliency MAE', f"{results['saliency']['MAE']:.4f}"])
        summary.append(['saliency max F', f"{results['saliency']['maxF']:.4f}"])
    for name, sweep in results.get('fusion', {}).items():
        best = sweep['best']
        summary.append([f"{name} mIoU (best gamma1={best['gamma1']:.2f}, "
                        f"gamma2={best['gamma2']:.2f})", f"{best['mIoU']:.2f}"])
    print(f'\nSummary, {where}\n')
    print(format_table(summary, ['metric', 'value']))
    out = args.out or osp.join(args.work_dir, 'eval_pseudo.json')
    atomic_write_bytes(out, json.dumps(results, indent=2).encode('utf-8'))
    print(f'\nwritten {out}')


if __name__ == '__main__':
    main()
