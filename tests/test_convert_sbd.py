"""tools/convert_sbd.py on SBD-style .mat files written by scipy (the SBD format)."""
import os
import os.path as osp

import numpy as np
from PIL import Image
from scipy.io import savemat

from conftest import run_tool


def test_convert_sbd(tmp_path):
    from wsss_mm.datasets.voc import VOC_PALETTE
    from wsss_mm.utils.io import save_png_atomic
    sbd, voc = tmp_path / 'sbd', tmp_path / 'VOC2012'
    (sbd / 'cls').mkdir(parents=True)
    rng = np.random.default_rng(0)
    maps = {}
    for img_id in ('2008_000001', '2008_000002', '2008_000003'):
        maps[img_id] = rng.integers(0, 21, size=(5, 7)).astype(np.uint8)
        savemat(str(sbd / 'cls' / f'{img_id}.mat'),
                {'GTcls': {'Segmentation': maps[img_id], 'Boundaries': np.zeros((1, 21)),
                           'CategoriesPresent': np.unique(maps[img_id])}})
    (sbd / 'train.txt').write_text('2008_000001\n2008_000002\n')
    (sbd / 'val.txt').write_text('2008_000003\n')
    sets = voc / 'ImageSets' / 'Segmentation'
    sets.mkdir(parents=True)
    (sets / 'train.txt').write_text('2007_000010\n')
    (sets / 'val.txt').write_text('2008_000002\n')
    voc_mask = np.full((5, 7), 255, np.uint8)
    voc_mask[1:4, 1:5] = 3
    save_png_atomic(str(voc / 'SegmentationClass' / '2008_000002.png'), voc_mask, VOC_PALETTE)
    save_png_atomic(str(voc / 'SegmentationClass' / '2007_000010.png'), voc_mask, VOC_PALETTE)
    run_tool(['tools/convert_sbd.py', str(sbd), str(voc)])
    aug = voc / 'SegmentationClassAug'
    for img_id in ('2008_000001', '2008_000003'):
        image = Image.open(aug / f'{img_id}.png')
        assert image.mode == 'P'
        np.testing.assert_array_equal(np.asarray(image), maps[img_id])
    # the VOC mask wins where both exist
    np.testing.assert_array_equal(np.asarray(Image.open(aug / '2008_000002.png')), voc_mask)
    train_aug = (voc / 'ImageSets/SegmentationAug/train_aug.txt').read_text().split()
    assert train_aug == ['2007_000010', '2008_000001', '2008_000003']
    assert osp.isfile(voc / 'ImageSets/SegmentationAug/val.txt')

    # idempotent: a rerun of a finished conversion rewrites nothing (same inode, same mtime;
    # an atomic rewrite would replace the inode)
    def stamps():
        files = [osp.join(d, n) for d in (aug, voc / 'ImageSets/SegmentationAug')
                 for n in os.listdir(d)]
        return {f: (os.stat(f).st_ino, os.stat(f).st_mtime_ns) for f in files}
    before = stamps()
    run_tool(['tools/convert_sbd.py', str(sbd), str(voc)])
    assert stamps() == before
    # an interrupted run (SBD mask written over a VOC id, one SBD mask missing) is repaired
    save_png_atomic(str(aug / '2008_000002.png'), maps['2008_000002'], VOC_PALETTE)
    os.remove(aug / '2008_000001.png')
    run_tool(['tools/convert_sbd.py', str(sbd), str(voc)])
    np.testing.assert_array_equal(np.asarray(Image.open(aug / '2008_000002.png')), voc_mask)
    np.testing.assert_array_equal(np.asarray(Image.open(aug / '2008_000001.png')),
                                  maps['2008_000001'])
