"""The stage-1 classifier: torchvision VGG-16 weights load unchanged; the loss and outputs."""
import pytest
import torch
import torchvision


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
    torch.testing.assert_close(loss, expected)
    predicted = model(images, samples, mode='predict')
    torch.testing.assert_close(predicted[1].pred_score, scores[1].sigmoid())
