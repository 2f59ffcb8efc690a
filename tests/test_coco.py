"""COCO-2014: tools/convert_coco.py against pycocotools, and every stage on 81 classes."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_tool

pycocotools = pytest.importorskip('pycocotools')
# the tools run in subprocesses: let them import pycocotools from where this process does
ENV = dict(PYTHONPATH=os.pathsep.join([REPO, osp.dirname(osp.dirname(pycocotools.__file__))]))
DEMO = osp.join(REPO, 'configs', 'demo')


def _coco_json(root, split, num_images, seed):
    """The generated set, with every third non-crowd annotation as a compressed RLE."""
    from pycocotools import mask as mask_utils

    from wsss_mm.datasets.synthetic import make_synthetic_coco
    path = make_synthetic_coco(root, split=split, num_images=num_images, size=(48, 64),
                               seed=seed)
    data = json.load(open(path))
    for ann in data['annotations']:
        if ann['iscrowd'] == 0 and ann['id'] % 3 == 0:
            img = next(i for i in data['images'] if i['id'] == ann['image_id'])
            h, w = img['height'], img['width']
            seg = ann['segmentation']
            rle = (mask_utils.merge(mask_utils.frPyObjects(seg, h, w)) if isinstance(seg, list)
                   else mask_utils.frPyObjects(seg, h, w))
            rle = mask_utils.encode(np.asfortranarray(mask_utils.decode(rle)))
            ann['segmentation'] = dict(size=rle['size'], counts=rle['counts'].decode('ascii'))
    with open(path, 'w') as f:
        json.dump(data, f)
    return path, data


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco'))
    train_json, train = _coco_json(root, 'train2014', 10, seed=0)
    val_json, _ = _coco_json(root, 'val2014', 6, seed=1)
    run_tool(['tools/convert_coco.py', train_json, root], env=ENV)
    run_tool(['tools/convert_coco.py', val_json, root, '--subset', '3'], env=ENV)
    return root, train_json, train


def _digests(folder):
    return {n: hashlib.sha256(open(osp.join(folder, n), 'rb').read()).hexdigest()
            for n in sorted(os.listdir(folder))}


def test_masks_equal_pycocotools_composition(coco_root):
    from pycocotools.coco import COCO
    root, train_json, data = coco_root
    # the generated file exercises every case the rule covers
    forms = {('poly' if isinstance(a['segmentation'], list) else
              'rle' if isinstance(a['segmentation']['counts'], str) else 'raw')
             for a in data['annotations']}
    assert forms == {'poly', 'rle', 'raw'}
    assert any(a['iscrowd'] for a in data['annotations'])
    coco = COCO(train_json)
    # COCO's non-contiguous ids -> 1..80 in ascending id order (written out by hand)
    assert sorted(coco.getCatIds())[:12] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    value = {cat: k + 1 for k, cat in enumerate(sorted(coco.getCatIds()))}
    assert (value[1], value[13], value[17], value[18], value[90]) == (1, 12, 16, 17, 80)
    overlaps = 0
    labelled = []
    for img_id in sorted(coco.getImgIds()):
        info = coco.loadImgs(img_id)[0]
        stem = osp.splitext(info['file_name'])[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        path = osp.join(root, 'SegmentationClass', stem + '.png')
        if not anns:
            assert not osp.exists(path), 'an image without annotations got a mask'
            continue
        labelled.append(stem)
        ref = np.zeros((info['height'], info['width']), np.uint8)
        cover = np.zeros_like(ref, dtype=int)
        for ann in anns:  # file order; crowd regions are not painted
            if ann['iscrowd']:
                continue
            m = coco.annToMask(ann) == 1
            cover += m
            ref[m] = value[ann['category_id']]
        overlaps += int((cover > 1).sum())
        mask = Image.open(path)
        assert mask.mode == 'P'
        np.testing.assert_array_equal(np.asarray(mask), ref)
    assert overlaps > 0, 'the generated objects do not overlap'
    assert open(osp.join(root, 'ImageSets', 'train2014.txt')).read().split() == labelled
    # labels: every annotated category, crowd included
    from wsss_mm.datasets import read_cls_labels
    labels = read_cls_labels(osp.join(root, 'cls_labels.npy'))
    for img_id in sorted(coco.getImgIds()):
        stem = osp.splitext(coco.loadImgs(img_id)[0]['file_name'])[0]
        cats = {a['category_id'] for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id))}
        if not cats:
            assert stem not in labels
            continue
        assert set((np.flatnonzero(labels[stem]) + 1).tolist()) == {value[c] for c in cats}
    assert sum(s.startswith('COCO_val2014') for s in labels) == 5  # both files merged
    subset = open(osp.join(root, 'ImageSets', 'val2014_3.txt')).read().split()
    assert len(subset) == 3 and set(subset) <= set(
        open(osp.join(root, 'ImageSets', 'val2014.txt')).read().split())


def test_conversion_resumes_identically(coco_root, tmp_path):
    root, train_json, _ = coco_root
    before = _digests(osp.join(root, 'SegmentationClass'))
    victim = osp.join(root, 'SegmentationClass', sorted(before)[0])
    os.remove(victim)
    open(osp.join(root, 'SegmentationClass', '.tmp-x-' + sorted(before)[1]), 'wb').close()
    run_tool(['tools/convert_coco.py', train_json, root], env=ENV)
    assert _digests(osp.join(root, 'SegmentationClass')) == before


def test_every_stage_on_coco(coco_root, tmp_path):
    """classifier -> gen_pseudo -> eval_pseudo -> segmentor -> test, 81 label values."""
    root, _, _ = coco_root
    roots = [f'{p}.dataset.data_root={root}'
             for p in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    cls_cfg = osp.join(DEMO, 'cls_tiny-r18-gap_1000iter_coco-demo.py')
    run_tool(['tools/train.py', cls_cfg, '--work-dir', str(tmp_path / 'cls'), '--cfg-options',
              *roots, 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
              'default_hooks.checkpoint.interval=2'], env=ENV)
    pseudo_cfg = osp.join(DEMO, 'pseudo_tiny-r18-gradcam_rbd-erasing_coco-demo.py')
    data = [f'pseudo_dataset.data_root={root}', f'pseudo_eval_dataset.data_root={root}']
    run_tool(['tools/gen_pseudo.py', pseudo_cfg, '--classifier-checkpoint',
              str(tmp_path / 'cls' / 'iter_2.pth'), '--work-dir', str(tmp_path / 'pseudo'),
              '--vis', '--cfg-options', *data], env=ENV)
    ids = open(osp.join(root, 'ImageSets', 'train2014.txt')).read().split()
    from wsss_mm.datasets import read_cls_labels
    labels = read_cls_labels(osp.join(root, 'cls_labels.npy'))
    for img_id in ids:
        pseudo = np.asarray(Image.open(tmp_path / 'pseudo' / 'pseudo_labels' / f'{img_id}.png'))
        allowed = set((np.flatnonzero(labels[img_id]) + 1).tolist()) | {0}
        assert set(np.unique(pseudo).tolist()) <= allowed
        with np.load(tmp_path / 'pseudo' / 'cams' / f'{img_id}.npz') as cams:
            assert set(cams['class_ids'].tolist()) == allowed - {0}
    out = str(tmp_path / 'eval.json')
    run_tool(['tools/eval_pseudo.py', pseudo_cfg, '--work-dir', str(tmp_path / 'pseudo'),
              '--out', out, '--cfg-options', *data], env=ENV)
    scores = json.load(open(out))
    assert len(scores['pseudo_labels']['per_class']) == 81
    assert scores['protocol']['num_images'] == len(ids)
    seg_cfg = osp.join(DEMO, 'deeplabv2_tiny-r18-aspp-msc_1000iter_coco-demo.py')
    seg = roots + [
        f'train_dataloader.dataset.label_dir={tmp_path / "pseudo" / "pseudo_labels"}',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'param_scheduler.0.end=2']
    run_tool(['tools/train.py', seg_cfg, '--work-dir', str(tmp_path / 'seg'), '--cfg-options',
              *seg], env=ENV)
    metrics = str(tmp_path / 'seg.json')
    proc = run_tool(['tools/test.py', seg_cfg, str(tmp_path / 'seg' / 'iter_2.pth'),
                     '--work-dir', str(tmp_path / 'seg_test'), '--out', metrics,
                     '--cfg-options', *seg], env=ENV)
    assert 'toothbrush' in proc.stdout  # the per-class table has COCO's 81 rows
    assert 'mIoU' in json.load(open(metrics))
