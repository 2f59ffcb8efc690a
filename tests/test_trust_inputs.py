"""Inputs that must not run code, write outside the output folder or merge silently (issue 17):
pickled label files, COCO instances files, file permissions."""
import io
import json
import os
import os.path as osp
import pickle
import stat
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

#: set by :func:`_record_call` if a crafted pickle managed to run it
CALLS = []


def _record_call(*args):
    CALLS.append(args)
    return {}


class _Payload:
    """An object whose unpickling calls ``func(*args)`` (what a crafted label file does)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _npy_of(obj) -> bytes:
    """The bytes ``np.save`` writes for ``obj`` (a dict is stored as a 0-d object array)."""
    buffer = io.BytesIO()
    np.save(buffer, obj, allow_pickle=True)
    return buffer.getvalue()


# ------------------------------------------------------------------ label files (B1)
@pytest.mark.parametrize('payload', ['os.system', 'test class'])
def test_label_file_with_code_is_refused_and_nothing_runs(tmp_path, payload):
    from wsss_mm.datasets import read_cls_labels
    marker = tmp_path / 'ran'
    if payload == 'os.system':
        obj = {2007000032: _Payload(os.system, f'touch {marker}')}
        global_name = r'(posix|os)\.system'
    else:
        obj = _Payload(_record_call, 'ran')
        global_name = r'test_trust_inputs\._record_call'
    path = tmp_path / 'cls_labels.npy'
    path.write_bytes(_npy_of(obj))
    CALLS.clear()
    with pytest.raises(ValueError, match=rf'cls_labels\.npy: refused: .*{global_name}'):
        read_cls_labels(str(path))
    assert not marker.exists() and CALLS == [], 'the crafted pickle ran'


def test_irn_label_file_still_loads(tmp_path):
    """A file as IRN's make_cls_labels writes it: np.save of a dict with np.int32 keys
    (np.loadtxt of the split) and float32 multi-hot values; also with numpy 1.x's
    module name in the pickle (numpy.core.multiarray), as older files have."""
    from wsss_mm.datasets import read_cls_labels
    want = {'2007_000032': [0, 14], '2008_000002': [7, 11], '2010_000123': [19]}
    table = {}
    for img_id, hot in want.items():
        row = np.zeros(20, np.float32)
        row[hot] = 1
        table[np.int32(img_id.replace('_', ''))] = row
    # numpy 1.x (IRN's time) pickled with protocol 3: GLOBAL opcodes naming numpy.core
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, dict(descr='|O', fortran_order=False, shape=()))
    old = pickle.dumps(np.array(table, dtype=object), protocol=3).replace(
        b'numpy._core.multiarray', b'numpy.core.multiarray')
    assert b'cnumpy.core.multiarray\n_reconstruct' in old
    variants = {'current': _npy_of(table), 'numpy1': header.getvalue() + old}
    for name, content in variants.items():
        path = tmp_path / f'{name}.npy'
        path.write_bytes(content)
        # the reference: numpy's own unrestricted reader of this trusted file
        trusted = np.load(path, allow_pickle=True).item()
        assert sorted(int(k) for k in trusted) == [2007000032, 2008000002, 2010000123]
        labels = read_cls_labels(str(path))
        assert sorted(labels) == sorted(want)
        for img_id, hot in want.items():
            assert labels[img_id].dtype == np.float32
            assert np.flatnonzero(labels[img_id]).tolist() == hot


def test_label_file_of_other_objects_is_refused_naming_the_entry(tmp_path):
    from wsss_mm.datasets import read_cls_labels
    cases = {
        'nested': ({2007000032: np.array([np.zeros(3)], dtype=object)},
                   r'2007_000032 is an array of shape \(1, 3\) and dtype object'),
        'text': ({'a': np.array(['x'])}, r'entry of a is an array of shape \(1,\) and dtype <U1'),
        'float key': ({1.5: np.zeros(3)}, r'key 1\.5 of type float'),
        'short int key': ({12: np.zeros(3)}, r'12 is not an IRN VOC key'),
        'plain array': (np.zeros((1, 3)), r'holds no \{image id: labels\} dict \(got an array '
                        r'of shape \(1, 3\)\)'),
    }
    for name, (obj, message) in cases.items():
        path = tmp_path / f'{name}.npy'
        path.write_bytes(_npy_of(obj))
        with pytest.raises(ValueError, match=rf'{name}\.npy.*{message}'):
            read_cls_labels(str(path))
    (tmp_path / 'cut.npy').write_bytes(_npy_of({2007000032: np.zeros(3)})[:-20])
    with pytest.raises(ValueError, match=r'cannot read label file .*cut\.npy'):
        read_cls_labels(str(tmp_path / 'cut.npy'))


# ------------------------------------------------------------------ COCO (B2, C3)
@pytest.fixture(scope='module')
def coco_generated(tmp_path_factory):
    """The generated COCO split of the other tests (every segmentation form, crowd regions)."""
    from wsss_mm.datasets.synthetic import make_synthetic_coco
    return make_synthetic_coco(str(tmp_path_factory.mktemp('coco')), num_images=4,
                               size=(24, 32))


def _coco(num_images=3):
    """A valid instances dict (COCO's 80 categories) with one polygon per image."""
    from wsss_mm.datasets import COCO_CATEGORY_IDS, COCO_CLASSES
    images = [dict(id=i + 1, file_name=f'COCO_train2014_{i + 1:012d}.jpg', height=8, width=10)
              for i in range(num_images)]
    anns = [dict(id=10 + i, image_id=i + 1, category_id=18, iscrowd=0, area=16.0,
                 bbox=[1.0, 1.0, 4.0, 4.0], segmentation=[[1, 1, 5, 1, 5, 5, 1, 5]])
            for i in range(num_images)]
    cats = [dict(id=c, name=n) for c, n in zip(COCO_CATEGORY_IDS, COCO_CLASSES)]
    return dict(images=images, annotations=anns, categories=cats)


def _broken(edit):
    data = _coco()
    edit(data)
    return data


def _set_image(index, **values):
    return lambda d: d['images'][index].update(values)


def _set_ann(index, **values):
    return lambda d: d['annotations'][index].update(values)


COCO_CASES = {
    'parent file name': (_set_image(1, file_name='../../x.jpg'),
                         r"image id=2 \('\.\./\.\./x\.jpg'\) has file_name .*plain file name"),
    'absolute file name': (_set_image(0, file_name='/tmp/x.jpg'),
                           r"image id=1 \('/tmp/x\.jpg'\) has file_name"),
    'sub-folder file name': (_set_image(0, file_name='a/x.jpg'), r"image id=1 .*plain file name"),
    'duplicated id': (lambda d: (d['images'][2].update(id=2),
                                 d['annotations'][2].update(image_id=2)),
                      r"image id=2 \('COCO_train2014_000000000003\.jpg'\) repeats the id of "
                      r"image id=2 \('COCO_train2014_000000000002\.jpg'\)"),
    'duplicated file': (_set_image(2, file_name='COCO_train2014_000000000001.jpg'),
                        r'image id=3 .* repeats the file stem of image id=1'),
    'image without height': (lambda d: d['images'][1].pop('height'),
                             r"image id=2 .* has no 'height'"),
    'missing annotations': (lambda d: d.pop('annotations'), r"'annotations' is missing"),
    'unknown category': (_set_ann(1, category_id=12), r"annotation id=11 of image id=2 "
                         r"\('COCO_train2014_000000000002\.jpg'\) has the unknown category_id 12"),
    'unknown image': (_set_ann(0, image_id=99), r'annotation id=10 names image_id 99'),
    'box only': (lambda d: d['annotations'][2].pop('segmentation'),
                 r'annotation id=12 of image id=3 .* has no segmentation \(a box-only'),
    'segmentation string': (_set_ann(0, segmentation='abc'),
                            r'annotation id=10 of image id=1 .* segmentation of type str'),
    'short polygon': (_set_ann(0, segmentation=[[1, 2]]), r'annotation id=10 .* polygon'),
    'RLE of another size': (_set_ann(0, segmentation=dict(size=[4, 4], counts='a')),
                            r'annotation id=10 .* RLE of size \[4, 4\]; the image is 8x10'),
    'annotation without category': (lambda d: d['annotations'][0].pop('category_id'),
                                    r"annotation id=10 has no 'category_id'"),
    'non-COCO ids': (lambda d: [c.update(id=k + 1) for k, c in enumerate(d['categories'])],
                     r"not COCO's 80 \(id, name\) pairs \(COCO_CATEGORY_IDS\): 80 categories, "
                     r"not COCO's: "
                     r"\[\(12, 'stop sign'\)"),
    '79 categories': (lambda d: d['categories'].pop(), r'79 categories'),
}


def test_valid_coco_instances_pass(coco_generated):
    from wsss_mm.datasets import check_coco_instances
    check_coco_instances(_coco(), 'x.json')
    check_coco_instances(json.load(open(coco_generated)), coco_generated)


@pytest.mark.parametrize('case', sorted(COCO_CASES))
def test_malformed_coco_instances_name_the_entry(case):
    from wsss_mm.datasets import check_coco_instances
    edit, message = COCO_CASES[case]
    with pytest.raises(ValueError, match=r'instances\.json: .*' + message):
        check_coco_instances(_broken(edit), 'instances.json')


def test_pycocotools_merges_duplicated_ids_silently():
    """Why the check exists: pycocotools keeps one of two images with one id (the reference)
    and gives it the annotations of both, which the converter would paint into one mask."""
    pytest.importorskip('pycocotools')
    from pycocotools.coco import COCO
    coco = COCO()
    coco.dataset = _broken(COCO_CASES['duplicated id'][0])
    coco.createIndex()
    assert sorted(coco.getImgIds()) == [1, 2]
    assert coco.getAnnIds(imgIds=2) == [11, 12]


def test_convert_coco_writes_nothing_outside_the_output_folder(tmp_path):
    out = tmp_path / 'deep' / 'out'
    out.mkdir(parents=True)
    data = _broken(_set_image(1, file_name='../../escape.jpg'))
    json_path = tmp_path / 'instances_train2014.json'
    json_path.write_text(json.dumps(data))
    pycocotools = pytest.importorskip('pycocotools')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(
        [REPO, osp.dirname(osp.dirname(pycocotools.__file__))]))
    proc = subprocess.run([sys.executable, 'tools/convert_coco.py', str(json_path), str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "image id=2 ('../../escape.jpg') has file_name" in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert sorted(p.name for p in tmp_path.rglob('*')) == ['deep', 'instances_train2014.json',
                                                          'out']


# ------------------------------------------------------------------ permissions (B3)
def test_atomic_writes_respect_the_umask(tmp_path):
    from wsss_mm.utils.io import atomic_write_bytes
    old = os.umask(0o022)
    try:
        atomic_write_bytes(str(tmp_path / 'a.bin'), b'x')
        os.umask(0o077)
        atomic_write_bytes(str(tmp_path / 'b.bin'), b'x')
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / 'a.bin').st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / 'b.bin').st_mode) == 0o600
