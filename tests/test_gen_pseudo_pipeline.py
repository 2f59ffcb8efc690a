"""The pipelined gen_pseudo (wsss_mm.apis.pseudo_label_runner) against the serial loop.

The serial loop (``refine_workers=0``, today's one-image-at-a-time gen_pseudo, whose
outputs the other tests check against independent references) is the reference: the
pipeline must write byte-identical files for every refiner, with 1 and 2 refine
workers, skip and report an image whose refiner raises, and stop with a message naming
the image when the OS kills a refine worker, then resume to identical files.
"""
import hashlib
import json
import os
import os.path as osp

import pytest
import torch
from test_gen_pseudo import classifier_ckpt, small_voc  # noqa: F401 (fixtures)

from conftest import REPO, run_tool

DEMO = osp.join(REPO, 'configs', 'demo')
THRESHOLD = osp.join(DEMO, 'pseudo_tiny-r18-gradcam_threshold_demo.py')
REFINER_CONFIGS = {
    'threshold': THRESHOLD,
    'crf': osp.join(DEMO, 'pseudo_tiny-r18-gradcam_crf_demo.py'),
    'algorithm1': osp.join(DEMO, 'pseudo_tiny-r18-gradcam_rbd-erasing_demo.py'),
    'random_walk': osp.join(DEMO, 'pseudo_tiny-r18-gradcam_irn_demo.py'),
}
STAGES = ('cam', 'cue', 'refine')


def _digest(work):
    """sha256 of every output file under ``work`` (the report excepted)."""
    out = {}
    for folder, _, names in os.walk(work):
        for name in names:
            if name != 'gen_pseudo_report.json':
                path = osp.join(folder, name)
                with open(path, 'rb') as f:
                    out[osp.relpath(path, work)] = hashlib.sha256(f.read()).hexdigest()
    return out


def _build(config, voc, ckpt):
    from mmengine.config import Config

    from wsss_mm.apis import PseudoLabelPipeline
    from wsss_mm.registry import DATASETS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.pseudo_dataset.data_root = voc
    if 'saliency_generator' in cfg:  # no trained detector here: random weights
        cfg.saliency_generator.detector.pop('init_cfg', None)
    dataset = DATASETS.build(cfg.pseudo_dataset)
    torch.manual_seed(0)  # the IRNet of the random-walk config is randomly initialized
    pipeline = PseudoLabelPipeline.from_config(cfg, ckpt, dataset.metainfo['label_ids'])
    return pipeline, dataset


def _run(config, voc, ckpt, work, workers, refiner=None, on_error='raise', vis=False,
         saliency_batch=1, num_images=None, network_threads=None, record_threads=None):
    """One runner run; ``record_threads``: a list that gets the torch thread count each
    time the seeds network runs."""
    from wsss_mm.apis.pseudo_label_runner import PseudoLabelRunner
    from wsss_mm.io import WorkDirLayout
    pipeline, dataset = _build(config, voc, ckpt)
    if refiner is not None:
        pipeline.refiner = refiner
    if record_threads is not None:
        attention = pipeline.attention

        def counted(data):
            record_threads.append(torch.get_num_threads())
            return attention(data)
        pipeline.attention = counted
    runner = PseudoLabelRunner(pipeline, dataset, WorkDirLayout(str(work)), STAGES, vis=vis,
                               on_error=on_error, refine_workers=workers,
                               loader_workers=1 if workers else 0,
                               saliency_batch=saliency_batch, network_threads=network_threads)
    return runner.run(list(range(num_images or len(dataset))))


def _rgb_digest(voc, ckpt, index):
    """sha256 of the RGB array a refiner is given for image ``index``."""
    _, dataset = _build(THRESHOLD, voc, ckpt)
    rgb = dataset[index]['inputs'].flip(0).permute(1, 2, 0).numpy()
    return hashlib.sha256(rgb.tobytes()).hexdigest()


@pytest.mark.parametrize('refiner', sorted(REFINER_CONFIGS))
def test_pipeline_writes_the_serial_files(refiner, small_voc, classifier_ckpt, tmp_path):
    config = REFINER_CONFIGS[refiner]
    serial = _run(config, small_voc, classifier_ckpt, tmp_path / 'serial', 0, vis=True)
    reference = _digest(tmp_path / 'serial')
    assert serial.done == 6 and serial.failures == []
    assert sum(name.startswith('pseudo_labels/') for name in reference) == 6
    for workers in (1, 2):
        summary = _run(config, small_voc, classifier_ckpt, tmp_path / f'w{workers}', workers,
                       vis=True)
        assert summary.done == 6 and summary.failures == []
        assert summary.counts['refine'] == 6 and summary.counts['cam'] == 6
        assert _digest(tmp_path / f'w{workers}') == reference, f'{workers} refine workers'


def test_network_threads_apply_to_the_pipeline_only(small_voc, classifier_ckpt, tmp_path):
    """The pipeline's networks run with ``network_threads`` torch threads (default: the
    process's, as the serial loop); the serial loop and the caller keep their setting."""
    before = torch.get_num_threads()
    for workers, asked, expected in ((1, None, before), (2, None, before), (1, 3, 3),
                                     (0, 3, before)):
        seen = []
        _run(THRESHOLD, small_voc, classifier_ckpt, tmp_path / f'{workers}-{asked}', workers,
             num_images=2, network_threads=asked, record_threads=seen)
        assert seen == [expected, expected], (workers, asked)
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match='network_threads must be >= 1, got 0'):
        _run(THRESHOLD, small_voc, classifier_ckpt, tmp_path / 'zero', 1, network_threads=0)


class FailOnImage:
    """A threshold refiner that raises on the image whose RGB digest is ``fail_on``."""

    cue = None

    def __init__(self, fail_on):
        from wsss_mm.pseudo import ThresholdRefiner
        self.inner = ThresholdRefiner(bg_threshold=0.15)
        self.fail_on = fail_on

    def refine(self, cams, class_ids, image, cue):
        if hashlib.sha256(image.tobytes()).hexdigest() == self.fail_on:
            raise ValueError('refiner refused this image')
        return self.inner.refine(cams, class_ids, image, cue)


def test_refiner_error_skips_one_image(small_voc, classifier_ckpt, tmp_path):
    from wsss_mm.io import InputError
    bad = _rgb_digest(small_voc, classifier_ckpt, 2)
    _run(THRESHOLD, small_voc, classifier_ckpt, tmp_path / 'serial', 0)
    summary = _run(THRESHOLD, small_voc, classifier_ckpt, tmp_path / 'skip', 2,
                   refiner=FailOnImage(bad), on_error='skip')
    assert summary.done == 5
    assert [f['img_id'] for f in summary.failures] == ['train_00002']
    assert 'refiner refused this image' in summary.failures[0]['error']
    expected = {k: v for k, v in _digest(tmp_path / 'serial').items()
                if k != 'pseudo_labels/train_00002.png'}
    assert _digest(tmp_path / 'skip') == expected
    with pytest.raises(InputError, match='train_00002: refiner refused this image'):
        _run(THRESHOLD, small_voc, classifier_ckpt, tmp_path / 'raise', 2,
             refiner=FailOnImage(bad))


KILLER = '''
import hashlib
import os
import signal

from wsss_mm.pseudo import ThresholdRefiner
from wsss_mm.registry import REFINERS


@REFINERS.register_module()
class KillOnImageRefiner(ThresholdRefiner):
    """Threshold refiner whose process is killed (SIGKILL) on the image whose pixels'
    sha256 is $KILL_ON_IMAGE (an environment variable, not a config value: the rerun
    without it has the same stage record and resumes)."""

    def refine(self, cams, class_ids, image, cue):
        kill_on = os.environ.get('KILL_ON_IMAGE')
        if kill_on and hashlib.sha256(image.tobytes()).hexdigest() == kill_on:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().refine(cams, class_ids, image, cue)
'''


def test_killed_worker_stops_the_run_and_it_resumes(small_voc, classifier_ckpt, tmp_path):
    (tmp_path / 'killing_refiner.py').write_text(KILLER)
    kill_on = _rgb_digest(small_voc, classifier_ckpt, 3)
    config = tmp_path / 'pseudo_kill.py'
    config.write_text(f"_base_ = [{THRESHOLD!r}]\n"
                      "custom_imports = dict(imports=['killing_refiner'])\n"
                      "refiner = dict(_delete_=True, type='KillOnImageRefiner', "
                      "bg_threshold=0.15)\n")
    env = dict(PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}')

    def gen_pseudo(work, *extra):
        return ['tools/gen_pseudo.py', str(config), '--classifier-checkpoint', classifier_ckpt,
                '--work-dir', str(work), *extra, '--cfg-options',
                f'pseudo_dataset.data_root={small_voc}']

    run_tool(gen_pseudo(tmp_path / 'serial', '--serial'), env=env)
    work = tmp_path / 'killed'
    with pytest.raises(AssertionError) as failed:
        run_tool(gen_pseudo(work, '--refine-workers', '2'), env=dict(env, KILL_ON_IMAGE=kill_on))
    message = str(failed.value)
    assert 'was killed by signal SIGKILL while refining dataset index 3 (train_00003)' in message
    assert 'rerun the same command to resume' in message
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['status'] == 'stopped' and report['stopped_at'] == 'train_00003'
    assert not osp.exists(work / 'pseudo_labels' / 'train_00003.png')
    from wsss_mm.utils.io import TEMP_PREFIX
    done_before = sum(not name.startswith(TEMP_PREFIX) and name.endswith('.png')
                      for name in os.listdir(work / 'pseudo_labels'))
    cams_missing = len([n for n in os.listdir(work / 'cams')
                        if not n.startswith(TEMP_PREFIX) and n.endswith('.npz')]) < 6
    proc = run_tool(gen_pseudo(work, '--refine-workers', '2'), env=env)
    assert f'{6 - done_before} images done, {done_before} already done' in proc.stdout
    assert _digest(work) == _digest(tmp_path / 'serial')
    report = json.load(open(work / 'gen_pseudo_report.json'))
    assert report['status'] == 'finished' and report['refine_workers'] == 2
    # the rerun computes the seeds only of images whose seeds were not stored before the kill
    assert set(report['busy_fraction']) == {'read', 'refine'} | ({'cam'} if cams_missing else set())


def _u2netp_erasing():
    from wsss_mm.saliency import ErasingSaliencyGenerator
    from wsss_mm.saliency.detectors.u2net import U2Net
    torch.manual_seed(0)
    detector = U2Net('u2netp', input_size=64).eval()
    # a random U²-Net gives saliency near 0.47: thresholds there erase part of each image
    return ErasingSaliencyGenerator(detector, thresholds=(0.473, 0.474))


def test_saliency_batch_equals_one_image_at_a_time():
    """Erasing saliency of two images of different sizes in one detector batch per pass
    equals batch 1 per image, to the float32 rounding of the network; erasing happens."""
    from tolerances import assert_close_f32, network_terms
    from wsss_mm.io import quantize_saliency
    generator = _u2netp_erasing()
    images = [torch.randn(1, 3, h, w) for h, w in ((40, 56), (33, 70))]
    batched = generator.forward_many(images)
    terms = network_terms(generator.detector)
    for image, value in zip(images, batched):
        alone = generator(image)[0]
        assert value.shape == image.shape[-2:]
        assert_close_f32(value, alone, terms)
        # the 8-bit files agree within one level (a value on a rounding edge may tip)
        diff = quantize_saliency(value).astype(int) - quantize_saliency(alone).astype(int)
        assert abs(diff).max() <= 1
        erased = (generator.detector(image)[:, 0] > generator.thresholds[0]).float().mean()
        assert 0 < erased < 1, 'the test must erase part of each image'


def test_saliency_batch_in_gen_pseudo(small_voc, classifier_ckpt, tmp_path):
    """--saliency-batch 4 (U²-Net, fixed input size) in the pipeline, on 4 images: the same
    seeds, and 8-bit saliency within one level of the one-image-at-a-time files."""
    import numpy as np
    from PIL import Image
    config = osp.join(DEMO, 'pseudo_tiny-r18-gradcam_u2netp-erasing_demo.py')
    _run(config, small_voc, classifier_ckpt, tmp_path / 'one', 0, num_images=4)
    summary = _run(config, small_voc, classifier_ckpt, tmp_path / 'batch', 1, saliency_batch=4,
                   num_images=4)
    assert summary.done == 4 and summary.counts['cue'] == 4
    one, batch = _digest(tmp_path / 'one'), _digest(tmp_path / 'batch')
    assert one.keys() == batch.keys()
    assert all(one[k] == batch[k] for k in one if k.startswith('cams/'))
    for name in (k for k in one if k.startswith('saliency/')):
        a, b = (np.asarray(Image.open(tmp_path / run / name), dtype=int)
                for run in ('one', 'batch'))
        assert np.abs(a - b).max() <= 1, name
