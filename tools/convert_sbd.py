"""Convert SBD's cls/*.mat into VOC's SegmentationClassAug PNGs and write train_aug.txt.

  python tools/convert_sbd.py data/benchmark_RELEASE/dataset data/VOCdevkit/VOC2012

* every ``cls/<id>.mat`` (struct ``GTcls`` with field ``Segmentation``, ids 0..20) becomes a
  VOC palette PNG in ``SegmentationClassAug/``;
* images with a VOC 2012 mask (``SegmentationClass/``) keep VOC's own mask (it has the 255
  boundary band); it is copied over the SBD one;
* ``ImageSets/SegmentationAug/train_aug.txt`` = (SBD train ∪ SBD val ∪ VOC train) − VOC val
  (10,582 ids for the real data) and ``val.txt`` = VOC val.
Files are written atomically; an output that already holds the right content is not
rewritten (SBD PNGs that exist, VOC masks and lists with identical bytes), so a rerun
resumes an interrupted one and a rerun of a finished one writes nothing.
"""
import argparse
import os
import os.path as osp

import numpy as np
from scipy.io import loadmat
from tqdm import tqdm

from wsss_mm.datasets.voc import VOC_PALETTE, read_split
from wsss_mm.utils.io import atomic_write_bytes, save_png_atomic


def read_sbd_mat(path: str) -> np.ndarray:
    """The class label map of one SBD ``cls`` file as uint8."""
    try:
        mat = loadmat(path, squeeze_me=True, struct_as_record=False)
        labels = np.asarray(mat['GTcls'].Segmentation)
    except (OSError, KeyError, AttributeError, ValueError) as err:
        raise ValueError(f'cannot read SBD annotation {path}: {err}') from err
    if labels.ndim != 2 or labels.max() > 20:
        raise ValueError(f'unexpected label map in {path}: shape {labels.shape}, '
                         f'max {labels.max()}')
    return labels.astype(np.uint8)


def write_if_changed(path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless the file already holds it; True if written."""
    if osp.isfile(path):
        with open(path, 'rb') as f:
            if f.read() == data:
                return False
    atomic_write_bytes(path, data)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('sbd_root', help='benchmark_RELEASE/dataset (holds cls/, train.txt)')
    parser.add_argument('voc_root', help='VOCdevkit/VOC2012')
    args = parser.parse_args()
    out_dir = osp.join(args.voc_root, 'SegmentationClassAug')
    sbd_ids = sorted(osp.splitext(n)[0] for n in os.listdir(osp.join(args.sbd_root, 'cls'))
                     if n.endswith('.mat'))
    for img_id in tqdm(sbd_ids, desc='SBD .mat -> PNG'):
        target = osp.join(out_dir, img_id + '.png')
        if not osp.isfile(target):
            save_png_atomic(target, read_sbd_mat(osp.join(args.sbd_root, 'cls',
                                                          img_id + '.mat')), VOC_PALETTE)
    voc_seg = osp.join(args.voc_root, 'SegmentationClass')
    for name in sorted(os.listdir(voc_seg)):
        if name.endswith('.png'):
            with open(osp.join(voc_seg, name), 'rb') as f:
                write_if_changed(osp.join(out_dir, name), f.read())
    sets = osp.join(args.voc_root, 'ImageSets', 'Segmentation')
    voc_val = read_split(osp.join(sets, 'val.txt'))
    pool = set(read_split(osp.join(sets, 'train.txt')))
    for split in ('train.txt', 'val.txt'):
        if osp.isfile(osp.join(args.sbd_root, split)):
            pool |= set(read_split(osp.join(args.sbd_root, split)))
    train_aug = sorted(pool - set(voc_val))
    aug_dir = osp.join(args.voc_root, 'ImageSets', 'SegmentationAug')
    write_if_changed(osp.join(aug_dir, 'train_aug.txt'), ('\n'.join(train_aug) + '\n').encode())
    with open(osp.join(sets, 'val.txt'), 'rb') as f:
        write_if_changed(osp.join(aug_dir, 'val.txt'), f.read())
    print(f'{len(sbd_ids)} SBD masks, train_aug: {len(train_aug)} ids, val: {len(voc_val)} ids')


if __name__ == '__main__':
    main()
