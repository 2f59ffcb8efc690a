"""IRN-style cls_labels.npy: built from VOC XML, read back, used as a label source."""
import numpy as np
import pytest

XMLS = {
    # two aeroplanes and a person; a "difficult" object still is an image-level label
    '2007_000032': ['aeroplane', 'aeroplane', 'person'],
    '2008_000002': ['dog', 'cat'],
    '2010_000123': ['tvmonitor'],
}


def _voc(tmp_path):
    root = tmp_path / 'VOC2012'
    (root / 'Annotations').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    for img_id, names in XMLS.items():
        objects = ''.join(f'<object><name>{n}</name><difficult>{int(i == 1)}</difficult>'
                          '</object>' for i, n in enumerate(names))
        (root / 'Annotations' / f'{img_id}.xml').write_text(
            f'<annotation><filename>{img_id}.jpg</filename>{objects}</annotation>')
    (root / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('\n'.join(XMLS) + '\n')
    return root


def test_voc_cls_labels_from_xml_match_hand_written(tmp_path):
    from wsss_mm.datasets import VOCImageLevelDataset, cls_labels_of, write_cls_labels
    root = _voc(tmp_path)
    ds = VOCImageLevelDataset(data_root=str(root), ann_file='ImageSets/Segmentation/train.txt')
    path = str(tmp_path / 'cls_labels.npy')
    write_cls_labels(path, cls_labels_of(ds), integer_voc_keys=True)
    # IRN's format, read with NumPy alone: {int id: float32 [20]}
    table = np.load(path, allow_pickle=True).item()
    # VOC order: aeroplane 0, cat 7, dog 11, person 14, tvmonitor 19
    expected = {2007000032: [0, 14], 2008000002: [7, 11], 2010000123: [19]}
    assert sorted(table) == sorted(expected)
    for key, hot in expected.items():
        want = np.zeros(20, np.float32)
        want[hot] = 1
        assert table[key].dtype == np.float32
        np.testing.assert_array_equal(table[key], want)


def test_npy_label_source_reads_irn_and_text_keys(tmp_path):
    from wsss_mm.datasets import VOCImageLevelDataset, read_cls_labels
    root = _voc(tmp_path)
    xml_ds = VOCImageLevelDataset(data_root=str(root), ann_file='ImageSets/Segmentation/train.txt')
    # a file as IRN writes it (np.save of a dict with integer keys), not by our writer
    irn = {int(k.replace('_', '')): info['gt_label']
           for k, info in zip(XMLS, (xml_ds.get_data_info(i) for i in range(3)))}
    np.save(tmp_path / 'irn.npy', irn)
    assert sorted(read_cls_labels(str(tmp_path / 'irn.npy'))) == sorted(XMLS)
    npy_ds = VOCImageLevelDataset(data_root=str(root), ann_file='ImageSets/Segmentation/train.txt',
                                  label_source='npy', label_file=str(tmp_path / 'irn.npy'))
    for i in range(3):
        np.testing.assert_array_equal(npy_ds.get_data_info(i)['gt_label'],
                                      xml_ds.get_data_info(i)['gt_label'])
    # text keys (the COCO form) and a missing id that names the file
    np.save(tmp_path / 'text.npy', {'2007_000032': np.ones(20)})
    with pytest.raises(ValueError, match=r'2008_000002 has no entry in .*text\.npy'):
        VOCImageLevelDataset(data_root=str(root), ann_file='ImageSets/Segmentation/train.txt',
                             label_source='npy', label_file=str(tmp_path / 'text.npy'))
    np.save(tmp_path / 'array.npy', np.zeros((3, 20)))
    with pytest.raises(ValueError, match=r'array\.npy holds no'):
        read_cls_labels(str(tmp_path / 'array.npy'))


def test_make_cls_labels_tool_writes_irn_file(tmp_path):
    import os.path as osp

    from conftest import REPO, run_tool
    root = _voc(tmp_path)
    cfg = osp.join(REPO, 'configs', 'xu2019', 'cls_vgg16_15e_voc12aug.py')
    out = tmp_path / 'cls_labels.npy'
    run_tool(['tools/make_cls_labels.py', cfg, str(out), '--irn-keys', '--datasets',
              'val_dataloader.dataset', '--cfg-options',
              f'val_dataloader.dataset.data_root={root}',
              'val_dataloader.dataset.ann_file=ImageSets/Segmentation/train.txt'])
    table = np.load(out, allow_pickle=True).item()
    assert sorted(table) == [2007000032, 2008000002, 2010000123]
    assert np.flatnonzero(table[2008000002]).tolist() == [7, 11]


def test_labels_from_mask_use_the_dataset_label_values(tmp_path):
    from wsss_mm.datasets import labels_from_mask
    from wsss_mm.utils.io import save_png_atomic
    path = str(tmp_path / 'm.png')
    save_png_atomic(path, np.array([[0, 5, 9], [255, 9, 0]], np.uint8))
    np.testing.assert_array_equal(labels_from_mask(path, (5, 9, 42)), [1, 1, 0])
    save_png_atomic(path, np.array([[0, 7]], np.uint8))
    with pytest.raises(ValueError, match=r'label value 7 in .*m\.png'):
        labels_from_mask(path, (5, 9, 42))
