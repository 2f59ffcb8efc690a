"""Why IRN's walk floods the background (docs/irn.md, "IRN on real photos"): the walk of an IRN
gen_pseudo work dir (stored CAMs + boundary maps) re-run at several background thresholds and
with the boundary map scaled, scored against the GT masks of the split (train).

    python benchmarks/irn_walk_diagnostics.py DATA_ROOT IRN_WORK_DIR [--thresholds ...]
        [--boundary-gains ...]

Prints the boundary statistics (mean, share > 0.5) and one row per (gain, threshold): mIoU,
foreground precision / recall; the seeds (CAM at 0.15) as the first row.
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch

from wsss_mm.datasets.voc import VOC_SEG_CLASSES
from wsss_mm.evaluation.segmentation_scores import confusion_matrix, scores_from_confusion
from wsss_mm.io import read_boundary, read_cams, read_label_map
from wsss_mm.pseudo import RandomWalkRefiner, ThresholdRefiner


def relation_label_stats(seed_dir: str, voc: str):
    """(precision %, labelled %) of the stored relation labels against the GT masks."""
    right = labelled = total = 0
    folder = osp.join(seed_dir, 'relation_labels')
    for name in sorted(os.listdir(folder)):
        rel = read_label_map(osp.join(folder, name))
        gt = read_label_map(osp.join(voc, 'SegmentationClass', name))
        known = (rel != 255) & (gt != 255)
        right += int((rel[known] == gt[known]).sum())
        labelled += int(known.sum())
        total += int((gt != 255).sum())
    return 100 * right / labelled, 100 * labelled / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('work_dir')
    parser.add_argument('--split', default='ImageSets/Segmentation/train.txt')
    parser.add_argument('--thresholds', type=float, nargs='+',
                        default=[0.25, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument('--boundary-gains', type=float, nargs='+', default=[1.0, 0.0])
    parser.add_argument('--exp-times', type=int, nargs='+', default=[8],
                        help='the walk takes 2 ** exp_times steps (IRN: 8)')
    parser.add_argument('--relation-dir', help='gen_pseudo work dir holding relation_labels/ '
                        '(the seed_dir IRNet was trained from)')
    args = parser.parse_args()
    if args.relation_dir:
        precision, share = relation_label_stats(args.relation_dir, args.data_root)
        print(f'relation labels: precision {precision:.1f} %, labelled {share:.1f} %')
    with open(osp.join(args.data_root, args.split), encoding='utf-8') as f:
        ids = [line.strip() for line in f if line.strip()]
    num = len(VOC_SEG_CLASSES)
    seeds = torch.zeros(num, num + 1, dtype=torch.long)
    walked = {(g, e, t): torch.zeros(num, num + 1, dtype=torch.long)
              for g in args.boundary_gains for e in args.exp_times for t in args.thresholds}
    means, strong = [], []
    for name in ids:
        cams, class_ids = read_cams(osp.join(args.work_dir, 'cams', f'{name}.npz'))
        boundary = torch.from_numpy(read_boundary(osp.join(args.work_dir, 'boundary',
                                                           f'{name}.npz')))
        gt = torch.from_numpy(read_label_map(osp.join(args.data_root, 'SegmentationClass',
                                                      f'{name}.png')).astype(np.int64))
        means.append(float(boundary.mean()))
        strong.append(float((boundary > 0.5).float().mean()))
        seed = ThresholdRefiner(0.15).refine(cams, class_ids, None, None)
        seeds += confusion_matrix(torch.from_numpy(seed.astype(np.int64)), gt, num)
        values = torch.from_numpy(np.concatenate([[0], class_ids]).astype(np.int64))
        for gain in args.boundary_gains:
            for exp in args.exp_times:
                scores = RandomWalkRefiner(exp_times=exp).scores(
                    cams, (boundary * gain).clamp(max=1), tuple(gt.shape))
                for t in args.thresholds:
                    full = torch.cat([scores.new_full((1, *gt.shape), t), scores])
                    walked[gain, exp, t] += confusion_matrix(values[full.argmax(0)], gt, num)
    print(f'{len(ids)} images; boundary mean {np.mean(means):.3f}, share > 0.5 '
          f'{100 * np.mean(strong):.1f} %')
    print('| labels | mIoU | fg precision / recall |\n| --- | --- | --- |')

    def row(label, conf):
        s = scores_from_confusion(conf, VOC_SEG_CLASSES)
        print(f"| {label} | {s['mIoU']:.2f} | {s['fgPrecision']:.1f} / {s['fgRecall']:.1f} |")

    row('seeds (CAM @ 0.15)', seeds)
    for (gain, exp, t), conf in walked.items():
        row(f'walk 2^{exp} steps, boundary x {gain:g}, background {t:g}', conf)


if __name__ == '__main__':
    main()
