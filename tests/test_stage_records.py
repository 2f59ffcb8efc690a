"""Stage records (wsss_mm/io/stage_record.py): digests, differences named by hand-written
lines, the stage states; relation labels that follow their record; stage folders linked out
of the work dir; the demo's reuse and its guarded --fresh."""
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import REPO

# sha256 of b'a' and b'b' (FIPS 180-2 test vector style constants, not computed here)
SHA_A = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'
SHA_B = '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d'


def test_digest_ignores_key_order_and_info_and_diff_names_each_change(tmp_path):
    from wsss_mm.io import diff_records, fingerprint_file, make_record, record_digest
    (tmp_path / 'a.pth').write_bytes(b'a')
    (tmp_path / 'b.pth').write_bytes(b'b')
    (tmp_path / 'a_copy.pth').write_bytes(b'a')
    assert fingerprint_file(str(tmp_path / 'a.pth')) == 'sha256:' + SHA_A
    old = make_record('pseudo', dict(refiner=dict(type='T', bg_threshold=0.15), x=(1, 2)),
                      checkpoints=dict(classifier=str(tmp_path / 'a.pth')),
                      upstream=dict(cam='sha256:' + SHA_A), split_ids=['i1', 'i2'],
                      info=dict(config='one.py'))
    # other key order, another path to the same bytes, other info: the same inputs
    same = make_record('pseudo', dict(x=[1, 2], refiner=dict(bg_threshold=0.15, type='T')),
                       checkpoints=dict(classifier=str(tmp_path / 'a_copy.pth')),
                       upstream=dict(cam='sha256:' + SHA_A), split_ids=['i1', 'i2'],
                       info=dict(config='two.py'))
    assert record_digest(same) == record_digest(old) and diff_records(old, same) == []
    new = make_record('pseudo', dict(refiner=dict(type='T', bg_threshold=0.3), x=(1, 2)),
                      checkpoints=dict(classifier=str(tmp_path / 'b.pth')),
                      upstream=dict(cam='sha256:' + SHA_B), split_ids=['i1'])
    assert record_digest(new) != record_digest(old)
    assert diff_records(old, new) == [
        'refiner.bg_threshold: 0.15 -> 0.3',
        f'classifier checkpoint: sha256 {SHA_A[:12]}.. -> sha256 {SHA_B[:12]}..',
        f'upstream cam record: sha256 {SHA_A[:12]}.. -> sha256 {SHA_B[:12]}..',
        f'split (image ids): sha256 {old["depends"]["split"][7:19]}.. (2 images) -> '
        f'sha256 {new["depends"]["split"][7:19]}.. (1 images)',
    ]
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        make_record('cam', {}, checkpoints=dict(classifier=str(tmp_path / 'missing.pth')))


def test_stage_states_and_clearing(tmp_path):
    from wsss_mm.io import clear_stage, make_record, stage_state, write_record
    folder = tmp_path / 'cams'
    record = make_record('cam', dict(cam_generator=dict(type='GradCAM')))
    assert stage_state(str(folder), record) == ('new', [])
    folder.mkdir()
    (folder / '.tmp-x-img.npz').write_bytes(b'')  # a killed writer's temp file: no output
    assert stage_state(str(folder), record) == ('new', [])
    (folder / 'img.npz').write_bytes(b'x')
    assert stage_state(str(folder), record) == ('unrecorded', [])
    write_record(str(folder), record)
    assert stage_state(str(folder), record) == ('same', [])
    other = make_record('cam', dict(cam_generator=dict(type='LayerCAM')))
    assert stage_state(str(folder), other) == (
        'changed', ['cam_generator.type: "GradCAM" -> "LayerCAM"'])
    (folder / 'sub').mkdir()
    (folder / 'sub' / 'keep.txt').write_text('not a stage output')
    assert clear_stage(str(folder)) == 2  # img.npz and the temp file; the record goes too
    assert sorted(os.listdir(folder)) == ['sub']
    assert (folder / 'sub' / 'keep.txt').read_text() == 'not a stage output'


def test_pseudo_stage_config_keeps_only_what_the_stage_reads():
    from mmengine.config import Config

    from wsss_mm.io import pseudo_stage_config
    cfg = Config(dict(model=dict(type='M'), cam_generator=dict(type='G'), cam_input_size=None,
                      refiner=dict(type='R', gamma1=0.2), pseudo_on_error='skip',
                      saliency_generator=dict(type='E', detector=dict(
                          type='U2Net', init_cfg=dict(type='Pretrained', checkpoint='a.pth'))),
                      pseudo_dataset=dict(data_root='d'), train_dataloader=dict(x=1)))
    data = dict(data_root='d')
    assert pseudo_stage_config(cfg, 'cam') == dict(
        model=dict(type='M'), cam_generator=dict(type='G'), cam_input_size=None,
        pseudo_dataset=data)
    # a checkpoint is recorded by its bytes, not its path
    assert pseudo_stage_config(cfg, 'saliency') == dict(
        saliency_generator=dict(type='E', detector=dict(type='U2Net',
                                                        init_cfg=dict(type='Pretrained'))),
        pseudo_dataset=data)
    assert pseudo_stage_config(cfg, 'pseudo') == dict(refiner=dict(type='R', gamma1=0.2),
                                                      pseudo_dataset=data)


def test_layout_refuses_stage_folder_linked_out_of_the_work_dir(tmp_path):
    from wsss_mm.io import InputError, WorkDirLayout
    work, gt = tmp_path / 'work', tmp_path / 'SegmentationClass'
    (work / 'elsewhere').mkdir(parents=True)
    gt.mkdir()
    os.symlink(work / 'elsewhere', work / 'cams')  # inside the work dir: allowed
    layout = WorkDirLayout(str(work))
    assert layout.path('cam', 'a') == osp.join(str(work), 'cams', 'a.npz')
    os.symlink(gt, work / 'pseudo_labels')
    with pytest.raises(InputError, match=r'work/pseudo_labels is a symlink to .*'
                       r'SegmentationClass, outside the work dir'):
        layout.path('pseudo', 'a')


def test_relation_labels_follow_their_record(tmp_path):
    """Stored relation labels are kept for the same thresholds and seeds, deleted and
    recomputed for others (hand-made CAMs, labels read off by hand), refused unrecorded."""
    from test_relation_labels import one_image_seed_set

    from wsss_mm.datasets import RelationLabelDataset
    from wsss_mm.io import InputError
    images, seeds, _, _, expected = one_image_seed_set(tmp_path)

    def labels(fg_threshold):
        pipeline = [dict(type='LoadImageFromFile'),
                    dict(type='LoadRelationLabels', crf=False, fg_threshold=fg_threshold),
                    dict(type='PackSegInputs')]
        dataset = RelationLabelDataset(images, seed_dir=seeds.work_dir, pipeline=pipeline)
        return dataset[0]['data_samples'].gt_sem_seg.data[0].numpy()

    stored = seeds.path('relation', 'img_a')
    np.testing.assert_array_equal(labels(0.30), expected)
    # fg > 0.5: only the 0.90 pixel stays foreground
    expected_05 = np.array([[8, 255, 255, 0], [255, 255, 0, 255], [0, 0, 0, 255]], np.uint8)
    np.testing.assert_array_equal(labels(0.5), expected_05)
    np.testing.assert_array_equal(np.asarray(Image.open(stored)), expected_05)
    np.testing.assert_array_equal(labels(0.5), expected_05)  # the same record: kept
    os.remove(osp.join(seeds.folder('relation'), '.stage_record.json'))
    with pytest.raises(InputError, match='relation_labels holds relation labels without a '
                       'record'):
        labels(0.5)


def _demo():
    spec = importlib.util.spec_from_file_location('demo_tool', osp.join(REPO, 'tools',
                                                                        'demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_fresh_deletes_only_its_own_work_dir(tmp_path, monkeypatch):
    demo = _demo()
    # a folder the demo did not make (no marker): refused, untouched
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'thesis.tex').write_text('x')
    with pytest.raises(SystemExit, match=r'mine was not made by the demo \(no .wsss_mm_demo'):
        demo.prepare_work_dir(str(mine), True, None)
    assert (mine / 'thesis.tex').read_text() == 'x'
    # a new work dir is marked; --fresh deletes what the demo made and marks it again
    work = tmp_path / 'work'
    demo.prepare_work_dir(str(work), False, None)
    assert (work / demo.MARKER).is_file()
    (work / 'pseudo').mkdir()
    (work / 'results.json').write_text('{}')
    demo.prepare_work_dir(str(work), True, None)
    assert sorted(os.listdir(work)) == [demo.MARKER]
    # marked, but holding the data root, the checkout or a file the demo did not make
    (work / 'voc').mkdir()
    with pytest.raises(SystemExit, match=r'work contains the data root'):
        demo.prepare_work_dir(str(work), True, str(work / 'voc'))
    monkeypatch.setattr(demo, 'REPO', str(work / 'voc'))
    with pytest.raises(SystemExit, match=r'work contains the repository'):
        demo.prepare_work_dir(str(work), True, None)
    monkeypatch.undo()
    with pytest.raises(SystemExit, match=r'holds entries the demo did not make \(voc\)'):
        demo.prepare_work_dir(str(work), True, None)
    assert (work / 'voc').is_dir() and (work / demo.MARKER).is_file()


def test_demo_reuses_a_stage_only_while_its_record_matches(tmp_path, capsys):
    demo = _demo()
    from wsss_mm.io import make_record
    folder, runs = tmp_path / 'pseudo', []

    def compute():
        runs.append(1)
        folder.mkdir()
        (folder / 'out.txt').write_text(str(len(runs)))

    seed0 = make_record('pseudo', dict(options={'randomness.seed': '0'}))
    seed1 = make_record('pseudo', dict(options={'randomness.seed': '1'}))
    demo.reuse_or_run('pseudo', str(folder), seed0, compute)
    demo.reuse_or_run('pseudo', str(folder), seed0, compute)
    demo.reuse_or_run('pseudo', str(folder), seed1, compute)
    out = capsys.readouterr().out.splitlines()
    assert out == ['[demo] pseudo: recomputed: nothing stored',
                   '[demo] pseudo: reused (record matches)',
                   '[demo] pseudo: recomputed: options.randomness.seed: "0" -> "1"']
    assert len(runs) == 2 and (folder / 'out.txt').read_text() == '2'


def test_convert_coco_refuses_a_split_from_another_annotation_file(tmp_path):
    """The masks of a split come from one annotation file: a rerun of the split from
    another file is refused, naming it, and leaves the masks as they were."""
    import hashlib
    import shutil

    from conftest import run_tool
    from wsss_mm.datasets.synthetic import make_synthetic_coco
    root = str(tmp_path / 'coco')
    first = make_synthetic_coco(root, split='train2014', num_images=3, size=(32, 40), seed=0)
    run_tool(['tools/convert_coco.py', first, root])
    other_root = str(tmp_path / 'other')
    other = make_synthetic_coco(other_root, split='train2014', num_images=3, size=(32, 40),
                                seed=5)
    masks = osp.join(root, 'SegmentationClass')

    def digests():
        return {n: hashlib.sha256(open(osp.join(masks, n), 'rb').read()).hexdigest()
                for n in os.listdir(masks)}

    before = digests()
    run_tool(['tools/convert_coco.py', first, root])  # the same file: resumes
    assert digests() == before
    with pytest.raises(AssertionError, match=r'the train2014 masks in .*SegmentationClass were '
                       r'made from other inputs \(annotation file checkpoint: sha256'):
        run_tool(['tools/convert_coco.py', other, root])
    assert digests() == before
    shutil.rmtree(other_root)
