"""IRN relation labels from CAMs: hand-made maps, pydensecrf reference, the dataset."""
import numpy as np
import pytest
import torch

from wsss_mm.pseudo.relation_labels import RelationLabelGenerator, irn_label_crf


def hand_made_cams():
    """Two classes (VOC ids 8 and 15) on a 3 x 4 image, and the labels read off by hand."""
    cams = np.array([
        [[0.90, 0.40, 0.10, 0.00], [0.20, 0.31, 0.04, 0.00], [0.00, 0.00, 0.00, 0.29]],
        [[0.10, 0.50, 0.02, 0.00], [0.35, 0.20, 0.04, 0.06], [0.01, 0.00, 0.00, 0.00]],
    ], dtype=np.float32)
    # fg: argmax class where its CAM > 0.30; bg: all CAMs < 0.05; rest 255
    expected = np.array([[8, 15, 255, 0], [15, 8, 0, 255], [0, 0, 0, 255]], dtype=np.uint8)
    return cams, np.array([8, 15]), expected


def test_relation_labels_without_crf_hand_made():
    cams, class_ids, expected = hand_made_cams()
    labels = RelationLabelGenerator(fg_threshold=0.30, bg_threshold=0.05)(cams, class_ids)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, expected)


def test_relation_labels_with_crf_match_irn_procedure_on_pydensecrf():
    dcrf = pytest.importorskip('pydensecrf.densecrf')
    from pydensecrf.utils import unary_from_labels

    rng = np.random.default_rng(0)
    height, width = 24, 32
    image = rng.integers(0, 60, (height, width, 3)).astype(np.uint8)
    image[4:18, 6:20] += 150  # a bright object
    cams = np.zeros((2, height, width), np.float32)
    cams[0, 3:19, 5:21] = rng.uniform(0.2, 1.0, (16, 16))
    cams[1, 10:22, 18:30] = rng.uniform(0.0, 0.6, (12, 12))
    class_ids = np.array([3, 12])

    def irn_crf(labels, n_labels):  # IRN misc/imutils.crf_inference_label, on pydensecrf
        d = dcrf.DenseCRF2D(width, height, n_labels)
        d.setUnaryEnergy(unary_from_labels(labels, n_labels, gt_prob=0.7, zero_unsure=False))
        d.addPairwiseGaussian(sxy=3, compat=3)
        d.addPairwiseBilateral(sxy=50, srgb=5, rgbim=np.ascontiguousarray(image), compat=10)
        return np.argmax(np.array(d.inference(10)).reshape(n_labels, height, width), axis=0)

    keys = np.array([0, 3, 12])
    fg = keys[irn_crf(np.concatenate([np.full((1, height, width), 0.30), cams]).argmax(0), 3)]
    bg = keys[irn_crf(np.concatenate([np.full((1, height, width), 0.05), cams]).argmax(0), 3)]
    expected = np.where(fg == 0, 255, fg)
    expected[(fg == 0) & (bg == 0)] = 0

    generator = RelationLabelGenerator(crf=irn_label_crf())
    np.testing.assert_array_equal(generator(cams, class_ids, image), expected.astype(np.uint8))


def test_relation_label_errors():
    cams, class_ids, _ = hand_made_cams()
    with pytest.raises(ValueError, match='class_ids'):
        RelationLabelGenerator()(cams, class_ids[:1])
    with pytest.raises(ValueError, match='image'):
        RelationLabelGenerator(crf=irn_label_crf())(cams, class_ids)
    with pytest.raises(ValueError, match='bg_threshold'):
        RelationLabelGenerator(fg_threshold=0.1, bg_threshold=0.2)


def one_image_seed_set(tmp_path):
    """A one-image VOC tree (3x4 grey image, GT mask with the hand-made classes) and a seed
    work dir holding its hand-made CAMs (the tree in ``tmp_path/VOC2012``): (image-level
    dataset config, seed layout, CAMs, class ids, expected relation labels)."""
    from PIL import Image

    from wsss_mm.io import WorkDirLayout, write_cams
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cams, class_ids, expected = hand_made_cams()
    root = tmp_path / 'VOC2012'
    for sub in ('JPEGImages', 'SegmentationClass'):
        (root / sub).mkdir(parents=True)
    (root / 'split.txt').write_text('img_a\n')
    Image.fromarray(np.full((3, 4, 3), 128, np.uint8)).save(root / 'JPEGImages' / 'img_a.jpg')
    mask = np.zeros((3, 4), np.uint8)
    mask[0, 0], mask[1, 1] = class_ids
    Image.fromarray(mask).save(root / 'SegmentationClass' / 'img_a.png')
    images = dict(type='VOCImageLevelDataset', data_root=str(root), ann_file='split.txt',
                  label_source='mask', data_prefix=dict(seg_map_path='SegmentationClass'))
    seeds = WorkDirLayout(str(tmp_path / 'seeds'))
    write_cams(seeds.path('cam', 'img_a'), torch.from_numpy(cams), class_ids)
    return images, seeds, cams, class_ids, expected


def test_relation_label_dataset_yields_image_and_labels(tmp_path):
    """Images and metainfo from a registered image-level dataset, CAMs through wsss_mm.io,
    relation labels stored on first use and read back afterwards."""
    from PIL import Image

    from wsss_mm.datasets import RelationLabelDataset
    from wsss_mm.io import InputError, write_cams
    images, seeds, cams, class_ids, expected = one_image_seed_set(tmp_path)
    root = tmp_path / 'VOC2012'
    mask = np.asarray(Image.open(root / 'SegmentationClass' / 'img_a.png'))
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadRelationLabels', crf=False),
                dict(type='PackSegInputs')]
    dataset = RelationLabelDataset(images, seed_dir=seeds.work_dir, pipeline=pipeline)
    assert dataset.metainfo['label_ids'] == tuple(range(1, 21))
    item = dataset[0]
    assert tuple(item['inputs'].shape) == (3, 3, 4)
    # float16 storage keeps every hand-made value on the same side of the thresholds
    np.testing.assert_array_equal(item['data_samples'].gt_sem_seg.data[0].numpy(), expected)
    stored = seeds.path('relation', 'img_a')
    np.testing.assert_array_equal(np.asarray(Image.open(stored)), expected)
    # a second read uses the stored labels, not the CAMs
    write_cams(seeds.path('cam', 'img_a'), torch.zeros(1, 3, 4), class_ids[:1])
    np.testing.assert_array_equal(dataset[0]['data_samples'].gt_sem_seg.data[0].numpy(),
                                  expected)

    (root / 'split.txt').write_text('img_a\nimg_b\n')
    Image.fromarray(np.full((3, 4, 3), 9, np.uint8)).save(root / 'JPEGImages' / 'img_b.jpg')
    Image.fromarray(mask).save(root / 'SegmentationClass' / 'img_b.png')
    with pytest.raises(FileNotFoundError, match='img_b.npz'):
        RelationLabelDataset(images, seed_dir=seeds.work_dir)
    (root / 'split.txt').write_text('img_a\n')
    np.savez(seeds.path('cam', 'img_a'), maps=cams)
    dataset = RelationLabelDataset(images, seed_dir=seeds.work_dir, pipeline=pipeline,
                                   cache_relation_labels=False)
    with pytest.raises(InputError, match='img_a.npz'):
        dataset[0]
    write_cams(seeds.path('cam', 'img_a'), torch.from_numpy(cams), np.array([1, 77], np.uint8))
    with pytest.raises(InputError, match=r'class ids \[77\]'):
        dataset[0]
