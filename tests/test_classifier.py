"""The stage-1 classifier: torchvision VGG-16 weights load unchanged; the loss and outputs."""
import pytest
import torch
import torchvision

from tolerances import assert_close_f32


@pytest.fixture(scope='module')
def vgg_checkpoint(tmp_path_factory):
    """A torchvision-layout VGG-16 ImageNet-style state dict (random weights, 1000 classes)."""
    torch.manual_seed(0)
    state = torchvision.models.vgg16(weights=None).state_dict()
    path = tmp_path_factory.mktemp('vgg') / 'vgg16_imagenet.pth'
    torch.save(state, path)
    return str(path), state


def test_torchvision_vgg16_checkpoint_loads_unchanged(vgg_checkpoint):
    from wsss_mm.registry import MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    path, state = vgg_checkpoint
    init = dict(type='Pretrained', checkpoint=path)
    model = MODELS.build(dict(
        type='MultiLabelClassifier',
        backbone=dict(type='VGG16Features', init_cfg=init),
        head=dict(type='VGGFCHead', num_classes=20, init_cfg=init)))
    model.init_weights()
    own = model.state_dict()
    for key, value in state.items():
        if key.startswith('classifier.6'):
            continue  # the new 20-way layer keeps its own init
        target = 'backbone.' + key if key.startswith('features') else 'head.' + key
        torch.testing.assert_close(own[target], value, rtol=0, atol=0)
    assert own['head.classifier.6.weight'].shape == (20, 4096)
    assert model.backbone.features[29].__class__ is torch.nn.ReLU  # the Grad-CAM layer


def test_multilabel_loss_and_scores():
    from mmseg.structures import SegDataSample

    from wsss_mm.registry import MODELS
    model = MODELS.build(dict(
        type='MultiLabelClassifier',
        backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3, )),
        head=dict(type='GAPLinearHead', in_channels=64, num_classes=20)))
    images = torch.randn(2, 3, 32, 32)
    labels = torch.zeros(2, 20)
    labels[0, 3] = labels[1, [0, 14]] = 1
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.set_field(label, 'gt_label')
        samples.append(sample)
    scores = model(images)
    # MultiLabelSoftMarginLoss by hand: mean over classes of the per-class BCE with logits
    expected = -(labels * torch.nn.functional.logsigmoid(scores) +
                 (1 - labels) * torch.nn.functional.logsigmoid(-scores)).mean()
    loss = model(images, samples, mode='loss')['loss_cls']
    # another float32 formula of the same 2 × 20 terms: rounding of their mean
    assert_close_f32(loss, expected, terms=labels.numel())
    predicted = model(images, samples, mode='predict')
    torch.testing.assert_close(predicted[1].pred_score, scores[1].sigmoid())


def test_paper_classifier_is_the_final_epoch_not_a_val_selected_one():
    """The paper trains 15 epochs and uses that model: the config selects nothing on VOC
    val labels, and every documented stage-2 command reads the file the hook writes last."""
    import glob
    import os.path as osp
    import re

    from mmengine.config import Config
    from mmengine.hooks import CheckpointHook

    from conftest import REPO
    cfg = Config.fromfile(osp.join(REPO, 'configs/xu2019/cls_vgg16_15e_voc12aug.py'))
    hook_cfg = dict(cfg.default_hooks.checkpoint)
    assert hook_cfg.pop('type') == 'CheckpointHook'
    hook = CheckpointHook(**hook_cfg)
    assert hook.save_best is None
    assert hook.by_epoch and cfg.train_cfg.max_epochs % hook.interval == 0
    last = f'epoch_{cfg.train_cfg.max_epochs}.pth'  # CheckpointHook's by-epoch file name
    files = [p for pattern in ('*.md', 'docs/*.md', 'configs/**/*.py')
             for p in glob.glob(osp.join(REPO, pattern), recursive=True)]
    used = {m for p in files
            for m in re.findall(r'cls_vgg16_15e_voc12aug/([^\s\\`]+)', open(p).read())}
    assert used == {last}


def test_random_crop_pads_small_images_with_the_mean_pixel():
    """DeepLab pads with the mean, not black: a 50×70 image in a 224 crop has a mean border."""
    import os.path as osp

    import numpy as np
    from mmengine.config import Config
    from mmengine.dataset import Compose

    from conftest import REPO
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    for name in ('configs/xu2019/cls_vgg16_15e_voc12aug.py',
                 'configs/demo/cls_tiny-r18-gap_1000iter_demo.py'):
        cfg = Config.fromfile(osp.join(REPO, name))
        pipeline = [t for t in cfg.train_dataloader.dataset.pipeline
                    if t['type'] in ('RandomCrop', 'Pad')]
        crop = cfg.crop_size
        image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
        out = Compose(pipeline)(dict(img=image.copy(), img_shape=image.shape[:2]))['img']
        assert out.shape == (*crop, 3)
        np.testing.assert_array_equal(out[:50, :70], image)
        # ImageNet mean (R 123.675, G 116.28, B 103.53) in the loader's BGR order, rounded
        assert (out[50:] == [104, 116, 124]).all() and (out[:, 70:] == [104, 116, 124]).all()
