"""Compare pseudo-label methods on the same split: one table and one picture.

  python tools/compare_pseudo.py CONFIG1 CONFIG2 ... --work-dir work_dirs/compare \
      [--pseudo-dirs DIR1 DIR2 ...] [--split train] [--num-vis 4]

Each config is a pseudo-label config (seeds -> [cue] -> refiner) whose labels
tools/gen_pseudo.py wrote into its work dir: ``--pseudo-dirs`` names them in config
order (default: ``<work-dir>/<config name>``). Every method is scored on the split and
GT of the first config's ``pseudo_eval_dataset`` (``--split`` / ``--gt-dir`` as
tools/eval_pseudo.py): mIoU, per-class IoU, foreground precision / recall, and the
seconds per image of each gen_pseudo stage (from its report). The method's refiner (and
default name) is what its work dir recorded; a work dir whose records do not match its
config is refused, naming each difference (tools/eval_pseudo.py; labels without records
are compared with a warning, under their config's refiner). Writes
<work-dir>/compare_pseudo.md, .json and .png (image | GT | each method, same images).
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List

from mmengine.config import Config

# tools/eval_pseudo.py, next to this file
from eval_pseudo import check_recorded_config, eval_dataset_config
from wsss_mm.evaluation import evaluate_pseudo_labels, format_table
from wsss_mm.io import WorkDirLayout, read_label_map, read_optional_label_map, read_rgb
from wsss_mm.registry import DATASETS
from wsss_mm.utils.config_check import EVAL_PSEUDO_KEYS, CfgOptionsAction, apply_cfg_options
from wsss_mm.utils.io import atomic_write_bytes, save_png_atomic
from wsss_mm.utils.setup_env import register_all_modules
from wsss_mm.visualization.overlay import make_panel, stack_panels


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+', help='pseudo-label configs, one per method')
    parser.add_argument('--work-dir', required=True, help='output folder (and default root '
                        'of the gen_pseudo work dirs)')
    parser.add_argument('--pseudo-dirs', nargs='+', help='gen_pseudo work dir of each config')
    parser.add_argument('--names', nargs='+', help='method names (default: config names)')
    parser.add_argument('--split', help='as tools/eval_pseudo.py --split')
    parser.add_argument('--gt-dir', help='as tools/eval_pseudo.py --gt-dir')
    parser.add_argument('--num-vis', type=int, default=4, help='images in the picture')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='applied to every config (e.g. pseudo_eval_dataset.data_root)')
    return parser.parse_args()


def stage_seconds(pseudo_dir: str) -> Dict[str, float]:
    """Seconds per image of each stage from the gen_pseudo report ({} if it has none)."""
    path = osp.join(pseudo_dir, 'gen_pseudo_report.json')
    if not osp.isfile(path):
        return {}
    with open(path, encoding='utf-8') as f:
        return json.load(f).get('seconds_per_image', {})


def main() -> None:
    args = parse_args()
    register_all_modules()
    names = args.names or [osp.splitext(osp.basename(c))[0] for c in args.configs]
    dirs = args.pseudo_dirs or [osp.join(args.work_dir, n) for n in names]
    if len(names) != len(args.configs) or len(dirs) != len(args.configs):
        sys.exit(f'compare_pseudo: {len(args.configs)} configs but {len(names)} names and '
                 f'{len(dirs)} pseudo dirs')
    refiners, recorded = [], []
    for config, pseudo_dir in zip(args.configs, dirs):
        if not WorkDirLayout(pseudo_dir).has('pseudo'):
            sys.exit(f'compare_pseudo: no pseudo labels in {pseudo_dir}: run tools/gen_pseudo.py '
                     f'{config} --work-dir {pseudo_dir} first (or pass --pseudo-dirs)')
        cfg = Config.fromfile(config)
        apply_cfg_options(cfg, args.cfg_options, EVAL_PSEUDO_KEYS, 'compare_pseudo')
        record = check_recorded_config(cfg, config, pseudo_dir, 'compare_pseudo')
        refiner = record['depends']['config']['refiner'] if record else cfg.refiner
        refiners.append(refiner.get('type'))
        recorded.append(record['info'].get('config') if record else config)
    if not args.names:  # the config each work dir recorded
        names = [osp.splitext(osp.basename(c))[0] for c in recorded]
    cfg = Config.fromfile(args.configs[0])
    apply_cfg_options(cfg, args.cfg_options, EVAL_PSEUDO_KEYS, 'compare_pseudo')
    dataset = DATASETS.build(eval_dataset_config(cfg, args.split, args.gt_dir))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    items = [(info['img_id'], info['seg_map_path']) for info in infos]
    meta = dataset.metainfo
    class_names = meta['seg_classes']
    protocol = dict(split=dataset.ann_file, num_images=len(items),
                    gt_dir=dataset.data_prefix['seg_map_path'])
    methods: List[dict] = []
    for name, config, pseudo_dir, refiner in zip(names, args.configs, dirs, refiners):
        scores = evaluate_pseudo_labels(WorkDirLayout(pseudo_dir), items, class_names)
        methods.append(dict(name=name, config=config, pseudo_dir=pseudo_dir, refiner=refiner,
                            seconds_per_image=stage_seconds(pseudo_dir), **scores))

    where = (f"split {protocol['split']} ({protocol['num_images']} images), "
             f"GT {protocol['gt_dir']}")
    summary = [[m['name'], m['refiner'], f"{m['mIoU']:.2f}", f"{m['fgPrecision']:.1f}",
                f"{m['fgRecall']:.1f}",
                f"{sum(m['seconds_per_image'].values()):.3f}" if m['seconds_per_image'] else '-',
                ', '.join(f'{k} {v:.3f}' for k, v in m['seconds_per_image'].items())]
               for m in methods]
    # classes without GT or predicted pixels in the split (IoU NaN for every method) are left out
    per_class = [[c] + [f"{m['per_class'][c]['IoU']:.1f}" for m in methods]
                 for c in class_names
                 if any(m['per_class'][c]['IoU'] == m['per_class'][c]['IoU'] for m in methods)]
    text = '\n'.join([
        f'Pseudo labels, {where}', '',
        format_table(summary, ['method', 'refiner', 'mIoU', 'fg precision', 'fg recall',
                               's / image', 'stages (s / image)']), '',
        'Per-class IoU', '', format_table(per_class, ['class'] + names), ''])
    print(text)
    out_md = osp.join(args.work_dir, 'compare_pseudo.md')
    atomic_write_bytes(out_md, text.encode('utf-8'))
    atomic_write_bytes(osp.join(args.work_dir, 'compare_pseudo.json'),
                       json.dumps(dict(protocol=protocol, methods=methods),
                                  indent=2).encode('utf-8'))

    rows = []
    for info in infos[:args.num_vis]:
        labels = {}
        gt = read_optional_label_map(info['seg_map_path'])
        if gt is not None:
            labels['GT'] = gt
        for name, pseudo_dir in zip(names, dirs):
            labels[name] = read_label_map(WorkDirLayout(pseudo_dir).path('pseudo', info['img_id']))
        rows.append(make_panel(read_rgb(osp.join(info['img_path'])), labels=labels,
                               palette=meta['palette']))
    if rows:
        save_png_atomic(osp.join(args.work_dir, 'compare_pseudo.png'), stack_panels(rows))
    print(f'written {out_md}, compare_pseudo.json, compare_pseudo.png in {args.work_dir}')


if __name__ == '__main__':
    main()
