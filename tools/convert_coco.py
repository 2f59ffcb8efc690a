"""Convert a COCO-2014 instances file to WSSS data: semantic masks, labels, split lists.

  python tools/convert_coco.py data/coco2014/annotations/instances_train2014.json data/coco2014
  python tools/convert_coco.py data/coco2014/annotations/instances_val2014.json data/coco2014 \
      --subset 5000

Writes under OUT_DIR (next to the COCO image folders train2014/ and val2014/):
  SegmentationClass/<stem>.png  palette PNG per image with >= 1 annotation, named after the
                                image file (COCO_train2014_000000000009.png): 0 background,
                                1..80 the categories in ascending category-id order
  cls_labels.npy                {stem: float32 [80] multi-hot}, the images of every converted
                                file (IRN/ReCAM-style image-level labels)
  ImageSets/<split>.txt         the images with >= 1 label (train2014: 82,081; val2014: 40,137)
  ImageSets/<split>_<N>.txt     with --subset N: a fixed random subset (--seed) for fast val

Rule (as ReCAM's mscoco conversion, whose masks most WSSS repositories distribute):
non-crowd annotations are painted in the file's annotation order, a later one over an
earlier one where they overlap; crowd regions are not painted (background unless a
non-crowd object covers them). Image-level labels are the categories of all the image's
annotations, crowd included, as ReCAM's label vectors.

Resumable: masks that exist are kept (each is written atomically), so a killed run
continues; the label file and lists are rewritten at the end. OUT_DIR/.convert_coco/<split>/
records the annotation file's sha256: a rerun of the split from another file is refused.
Memory: the JSON (about 2-3 GB in pycocotools for train2014) plus one image's masks at a time.

The JSON is checked before anything is written (``check_coco_instances``): file names
with a folder part (``../../x.jpg``), repeated image ids or file names, categories that
are not COCO's 80, unknown images or categories and segmentations that are missing
(box-only) or malformed are refused, naming the entry.
"""
import argparse
import json
import os.path as osp
import re
from typing import Dict, List, Sequence

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from tqdm import tqdm

from wsss_mm.datasets import (COCOImageLevelDataset, check_coco_instances, read_cls_labels,
                              write_cls_labels)
from wsss_mm.io import make_record, stage_state, write_label_map, write_record
from wsss_mm.utils.io import atomic_write_bytes, remove_stale_temp_files

MASK_DIR = 'SegmentationClass'
LABEL_FILE = 'cls_labels.npy'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('annotation_json', help='e.g. annotations/instances_train2014.json')
    parser.add_argument('out_dir', help='output root (the COCO image folders live here)')
    parser.add_argument('--split-name', help='name of the split list (default: from the JSON '
                        'name, instances_train2014.json -> train2014)')
    parser.add_argument('--subset', type=int, help='also write a fixed random subset of N ids')
    parser.add_argument('--seed', type=int, default=0, help='seed of --subset')
    return parser.parse_args()


def binary_mask(segmentation, height: int, width: int) -> np.ndarray:
    """[H, W] uint8 0/1 of a polygon list, an uncompressed or a compressed RLE."""
    if isinstance(segmentation, list):  # polygons: the parts of one object
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation['counts'], list):  # uncompressed RLE
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle)


def semantic_mask(anns: Sequence[dict], height: int, width: int,
                  value_of: Dict[int, int]) -> np.ndarray:
    """[H, W] uint8 label values: non-crowd annotations in order, later over earlier."""
    out = np.zeros((height, width), np.uint8)
    for ann in anns:
        if ann.get('iscrowd', 0):
            continue
        out[binary_mask(ann['segmentation'], height, width) > 0] = value_of[ann['category_id']]
    return out


def load_checked(path: str) -> COCO:
    """The pycocotools index of an instances JSON that :func:`check_coco_instances` accepts."""
    try:
        with open(path, 'rb') as f:
            data = json.load(f)
    except (OSError, ValueError) as err:  # json.JSONDecodeError is a ValueError
        raise SystemExit(f'convert_coco: cannot read {path}: {err}') from err
    try:
        check_coco_instances(data, path)
    except ValueError as err:
        raise SystemExit(f'convert_coco: {err}') from err
    coco = COCO()
    coco.dataset = data
    coco.createIndex()
    return coco


def main() -> None:
    args = parse_args()
    coco = load_checked(args.annotation_json)
    cat_ids = sorted(coco.getCatIds())
    # the k-th category in ascending id order is class k (label value label_ids[k])
    index_of = {cat: k for k, cat in enumerate(cat_ids)}
    value_of = {cat: COCOImageLevelDataset.METAINFO['label_ids'][k]
                for cat, k in index_of.items()}
    split = args.split_name or re.sub(r'^instances_', '',
                                      osp.splitext(osp.basename(args.annotation_json))[0])
    mask_dir = osp.join(args.out_dir, MASK_DIR)
    # what this split's masks are made from (wsss_mm/io/stage_record.py): never two files' mix
    record_dir = osp.join(args.out_dir, '.convert_coco', split)
    record = make_record('convert_coco', dict(split=split, mask_dir=MASK_DIR),
                         checkpoints={'annotation file': args.annotation_json})
    state, differences = stage_state(record_dir, record)
    if state == 'changed':
        raise SystemExit(f'convert_coco: the {split} masks in {mask_dir} were made from other '
                         f'inputs ({"; ".join(differences)}): delete {mask_dir} and '
                         f'{record_dir}, or choose another OUT_DIR')
    write_record(record_dir, record)
    remove_stale_temp_files(mask_dir)
    palette = COCOImageLevelDataset.METAINFO['palette']
    labels: Dict[str, np.ndarray] = {}
    for img_id in tqdm(sorted(coco.getImgIds()), desc=f'convert {split}', dynamic_ncols=True):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id, iscrowd=None))
        if not anns:
            continue
        info = coco.loadImgs(img_id)[0]
        stem = osp.splitext(info['file_name'])[0]
        hot = np.zeros(len(cat_ids), np.float32)
        hot[[index_of[a['category_id']] for a in anns]] = 1
        labels[stem] = hot
        path = osp.join(mask_dir, stem + '.png')
        if not osp.isfile(path):
            write_label_map(path, semantic_mask(anns, info['height'], info['width'], value_of),
                            palette)
    label_path = osp.join(args.out_dir, LABEL_FILE)
    merged = read_cls_labels(label_path) if osp.isfile(label_path) else {}
    merged.update(labels)
    write_cls_labels(label_path, merged)
    ids: List[str] = sorted(labels)
    lists = {split: ids}
    if args.subset:
        if args.subset > len(ids):
            raise SystemExit(f'--subset {args.subset} > {len(ids)} labelled images')
        pick = np.random.default_rng(args.seed).permutation(len(ids))[:args.subset]
        lists[f'{split}_{args.subset}'] = [ids[i] for i in sorted(pick)]
    for name, chosen in lists.items():
        atomic_write_bytes(osp.join(args.out_dir, 'ImageSets', name + '.txt'),
                           ''.join(i + '\n' for i in chosen).encode('utf-8'))
    print(f'[convert_coco] {split}: {len(ids)} labelled images of {len(coco.getImgIds())}, '
          f'masks in {mask_dir}, labels in {label_path}')


if __name__ == '__main__':
    main()
