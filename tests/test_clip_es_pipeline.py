"""configs/clip_es end to end on generated VOC data with a random-weight ViT-B/16 in
OpenAI's format: gen_pseudo -> eval_pseudo -> compare_pseudo with the CLIP-ES rows.

The checkpoint is a float16 state dict in OpenAI's key layout with the integer entries
of their files (``input_resolution``, ``context_length``, ``vocab_size``). The seeds
and the affinity cue come from one gen_pseudo run of the CAA + CRF config; the seeds
and CAA rows re-refine its stored seeds and cue (``--stages refine``), which is what
a user does to add rows without running the network again. The CAA labels are checked
against the refiner run on the stored files, and an image smaller than one patch is
skipped and reported under ``--on-error skip`` (the last of the labelled images, left out
of the scored split).
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO, run_tool
from wsss_mm.io import read_cams, read_cue, read_label_map
from wsss_mm.models import VIT_B_16_ARCH
from wsss_mm.models.clip import CLIPModel
from wsss_mm.pseudo import CAARefiner

CFG = osp.join(REPO, 'configs', 'clip_es', 'pseudo_clip-vit-b16_{}_voc12aug.py')
ROWS = ('seeds', 'caa', 'caa-crf')
NUM_IMAGES = 3


@pytest.fixture(scope='module')
def vit_b16_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    state = {k: v.half() for k, v in CLIPModel(**VIT_B_16_ARCH).state_dict().items()}
    state.update(input_resolution=torch.tensor(224), context_length=torch.tensor(77),
                 vocab_size=torch.tensor(49408))
    path = str(tmp_path_factory.mktemp('clip') / 'ViT-B-16.pt')
    torch.save(state, path)
    return path


def test_clip_es_configs_end_to_end(synthetic_voc, vit_b16_checkpoint, tmp_path):
    voc = tmp_path / 'voc'
    shutil.copytree(synthetic_voc, voc)
    ids = open(voc / 'ImageSets' / 'SegmentationAug' / 'train_aug.txt').read().split()
    tiny = ids[NUM_IMAGES]  # the last image labelled: smaller than one 16x16 patch
    Image.fromarray(np.full((12, 40, 3), 128, np.uint8)).save(voc / 'JPEGImages' / f'{tiny}.jpg')
    data = [f'pseudo_dataset.data_root={voc}', f'pseudo_dataset.indices={NUM_IMAGES + 1}']
    work = {row: tmp_path / row for row in ROWS}
    run_tool(['tools/gen_pseudo.py', CFG.format('caa-crf'), '--classifier-checkpoint',
              vit_b16_checkpoint, '--work-dir', str(work['caa-crf']), '--device', 'cpu',
              '--on-error', 'skip', '--cfg-options', *data])
    report = json.load(open(work['caa-crf'] / 'gen_pseudo_report.json'))
    assert report['status'] == 'finished' and report['processed_this_run'] == NUM_IMAGES
    (failure, ) = report['failures']
    assert failure['img_id'] == tiny and 'smaller than one 16×16 patch' in failure['error']
    assert set(report['seconds_per_image']) == {'cam', 'cue', 'refine'}
    # the affinity cue comes from the seeds' forward: its record holds the seeds' config, so
    # another prompt template is refused for the cue stage alone, before anything is written
    proc = subprocess.run(
        [sys.executable, 'tools/gen_pseudo.py', CFG.format('caa-crf'), '--classifier-checkpoint',
         vit_b16_checkpoint, '--work-dir', str(work['caa-crf']), '--stages', 'cue',
         '--device', 'cpu', '--cfg-options', *data, 'model.template=a photo of a {}.'],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO), capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'model.template: "a clean origami {}." -> "a photo of a {}."' in proc.stderr
    for row in ('seeds', 'caa'):
        for folder in ('cams', 'affinity'):
            shutil.copytree(work['caa-crf'] / folder, work[row] / folder)
        run_tool(['tools/gen_pseudo.py', CFG.format(row), '--work-dir', str(work[row]),
                  '--stages', 'refine', '--device', 'cpu', '--on-error', 'skip',
                  '--cfg-options', *data])

    # the stored cue: the affinity of a 96x128 image (6x8 patches) and its grid seeds
    img_id = sorted(p[:-4] for p in os.listdir(work['caa'] / 'cams') if p.endswith('.npz'))[0]
    cams, class_ids = read_cams(str(work['caa'] / 'cams' / f'{img_id}.npz'))
    cue = read_cue(str(work['caa'] / 'affinity' / f'{img_id}.npz'), 'affinity')
    assert cue['affinity'].shape == (48, 48) and cue['grid_cams'].shape == (len(class_ids), 6, 8)
    np.testing.assert_allclose(cue['affinity'].sum(axis=1), 1, atol=48 * 2**-11)
    expected = CAARefiner(device='cpu').refine(cams, class_ids, None, cue)
    np.testing.assert_array_equal(
        read_label_map(str(work['caa'] / 'pseudo_labels' / f'{img_id}.png')), expected)
    crf_labels = read_label_map(str(work['caa-crf'] / 'pseudo_labels' / f'{img_id}.png'))
    assert set(np.unique(crf_labels)) <= {0, 255, *map(int, class_ids)}

    eval_opts = [f'pseudo_eval_dataset.data_root={voc}',
                 f'pseudo_eval_dataset.indices={NUM_IMAGES}']
    run_tool(['tools/eval_pseudo.py', CFG.format('caa'), '--work-dir', str(work['caa']),
              '--split', 'train', '--cfg-options', *eval_opts])
    assert osp.isfile(work['caa'] / 'eval_pseudo.json')
    out = tmp_path / 'compare'
    run_tool(['tools/compare_pseudo.py', *[CFG.format(r) for r in ROWS], '--names',
              'CLIP-ES seeds', 'CLIP-ES CAA', 'CLIP-ES CAA+CRF', '--pseudo-dirs',
              *[str(work[r]) for r in ROWS], '--work-dir', str(out), '--split', 'train',
              '--cfg-options', *eval_opts])
    table = json.load(open(out / 'compare_pseudo.json'))
    assert [m['name'] for m in table['methods']] == ['CLIP-ES seeds', 'CLIP-ES CAA',
                                                     'CLIP-ES CAA+CRF']
    text = open(out / 'compare_pseudo.md').read()
    for name, refiner in (('CLIP-ES seeds', 'BgPowerRefiner'), ('CLIP-ES CAA', 'CAARefiner'),
                          ('CLIP-ES CAA+CRF', 'ClipESCRFRefiner')):
        assert f'| {name} | {refiner} |' in text
