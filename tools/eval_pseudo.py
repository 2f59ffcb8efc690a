"""Score pseudo labels, CAMs and saliency (from tools/gen_pseudo.py) against GT masks.

  python tools/eval_pseudo.py --work-dir work_dirs/pseudo_voc12aug \
      --data-root data/VOCdevkit/VOC2012 --split ImageSets/SegmentationAug/train_aug.txt

Prints markdown tables and writes <work-dir>/eval_pseudo.json (or --out).
"""
import argparse
import json
import os.path as osp

from wsss_mm.datasets.voc import VOC_SEG_CLASSES, read_split
from wsss_mm.evaluation import (evaluate_cam_dir, evaluate_label_dir, evaluate_saliency_dir,
                                format_table)
from wsss_mm.utils.io import atomic_write_bytes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', required=True, help='gen_pseudo output folder')
    parser.add_argument('--data-root', required=True, help='VOCdevkit/VOC2012')
    parser.add_argument('--split', default='ImageSets/SegmentationAug/train_aug.txt')
    parser.add_argument('--gt-dir', default='SegmentationClassAug',
                        help='GT masks, relative to --data-root')
    parser.add_argument('--out', help='JSON file (default: <work-dir>/eval_pseudo.json)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    ids = read_split(osp.join(args.data_root, args.split))
    gt_dir = osp.join(args.data_root, args.gt_dir)
    results = {}
    if osp.isdir(osp.join(args.work_dir, 'pseudo_labels')):
        results['pseudo_labels'] = evaluate_label_dir(
            osp.join(args.work_dir, 'pseudo_labels'), gt_dir, ids)
    if osp.isdir(osp.join(args.work_dir, 'cams')):
        results['cams'] = evaluate_cam_dir(osp.join(args.work_dir, 'cams'), gt_dir, ids)
    if osp.isdir(osp.join(args.work_dir, 'saliency')):
        results['saliency'] = evaluate_saliency_dir(osp.join(args.work_dir, 'saliency'),
                                                    gt_dir, ids)
    if not results:
        raise SystemExit(f'nothing to evaluate in {args.work_dir} '
                         '(no pseudo_labels/, cams/ or saliency/)')
    rows = []
    for name in VOC_SEG_CLASSES:
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
    print()
    print(format_table(summary, ['metric', 'value']))
    out = args.out or osp.join(args.work_dir, 'eval_pseudo.json')
    atomic_write_bytes(out, json.dumps(results, indent=2).encode('utf-8'))
    print(f'\nwritten {out}')


if __name__ == '__main__':
    main()
