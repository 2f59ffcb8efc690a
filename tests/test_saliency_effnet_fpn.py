"""EfficientNetLiteFPN: the ImageNet EfficientNet-Lite0 encoder under an FPN saliency decoder."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from test_efficientnet_lite import checkpoint_or_skip
from tolerances import assert_close_f32, network_terms
from wsss_mm.models.backbones.efficientnet_lite import EfficientNetLite
from wsss_mm.registry import MODELS
from wsss_mm.saliency import EfficientNetLiteFPN, SaliencyDetector
from wsss_mm.utils.setup_env import register_all_modules

TRAIN_CONFIG = 'configs/demo/saliency_effnet-lite0-fpn_300iter_demo.py'
PSEUDO_CONFIG = 'configs/demo/pseudo_effnet-lite0-gradcam_effnet-fpn-erasing_demo.py'


@pytest.fixture(autouse=True, scope='module')
def default_scope():
    """Configs name mmseg modules (SegDataPreProcessor) by plain type."""
    register_all_modules()


def perturb_batch_norms(model: torch.nn.Module, seed: int = 0) -> None:
    """Non-trivial BN statistics and affine parameters (fresh ones are the identity)."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            shape = module.running_mean.shape
            module.running_mean.copy_(0.1 * torch.randn(shape, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))
            module.weight.data.copy_(0.5 + torch.rand(shape, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(shape, generator=generator))


def test_side_output_shapes_on_a_non_square_input():
    torch.manual_seed(0)
    model = EfficientNetLiteFPN(input_size=None, pretrained=False)
    images = torch.randn(2, 3, 100, 140)
    outputs = model.train()(images)
    # strides 32, 16, 8, 4 with TF 'SAME' padding: ceil(100 / s) x ceil(140 / s)
    assert [tuple(o.shape) for o in outputs] == [
        (2, 1, 4, 5), (2, 1, 7, 9), (2, 1, 13, 18), (2, 1, 25, 35)]
    saliency = model.eval()(images)
    assert saliency.shape == (2, 1, 100, 140)
    expected = torch.sigmoid(F.interpolate(model.side_outputs(images)[-1], size=(100, 140),
                                           mode='bilinear', align_corners=False))
    assert torch.equal(saliency, expected)
    # a fixed input size: the network runs at 64x64 whatever the image size
    model = EfficientNetLiteFPN(input_size=64, encoder_levels=(1, 4), pretrained=False)
    outputs = model.train()(torch.randn(1, 3, 50, 70))
    assert [tuple(o.shape) for o in outputs] == [(1, 1, 4, 4), (1, 1, 32, 32)]  # strides 16, 2
    assert model.eval()(torch.randn(1, 3, 50, 70)).shape == (1, 1, 50, 70)
    with pytest.raises(ValueError, match='strictly increasing'):
        EfficientNetLiteFPN(encoder_levels=(3, 2), pretrained=False)
    with pytest.raises(ValueError, match='at least two'):
        EfficientNetLiteFPN(encoder_levels=(7, ), pretrained=False)


def test_decoder_combines_the_encoder_levels_top_down():
    """float64 reference: separate encoder + the documented FPN in functional ops."""
    torch.manual_seed(0)
    model = EfficientNetLiteFPN(input_size=None, pretrained=False).eval()
    perturb_batch_norms(model)
    images = torch.randn(1, 3, 72, 88)
    actual = model.side_outputs(images)

    encoder = EfficientNetLite(num_classes=None, drop_path_rate=0.0).double().eval()
    encoder.load_state_dict(model.encoder.state_dict())
    features = encoder.forward_levels(images.double(), (2, 3, 5, 7))
    assert [f.shape[1] for f in features] == [24, 40, 112, 320]

    def conv(module, x, padding=0):
        bias = None if module.bias is None else module.bias.double()
        return F.conv2d(x, module.weight.double(), bias, padding=padding)

    def smooth(k, x):
        conv3, norm, _ = model.smooths[k]
        x = conv(conv3, x, padding=1)
        return F.relu(F.batch_norm(x, norm.running_mean.double(), norm.running_var.double(),
                                   norm.weight.double(), norm.bias.double(), eps=norm.eps))

    expected, top_down = [], None
    for k in (3, 2, 1, 0):
        x = conv(model.laterals[k], features[k])
        if top_down is not None:
            x = x + F.interpolate(top_down, size=x.shape[-2:], mode='bilinear',
                                  align_corners=False)
        top_down = smooth(k, x)
        expected.append(conv(model.predicts[k], top_down))
    assert len(actual) == len(expected) == 4
    for ours, reference in zip(actual, expected):
        assert_close_f32(ours, reference, network_terms(model))


def test_encoder_gets_the_imagenet_weights_and_can_be_frozen():
    checkpoint = checkpoint_or_skip()
    reference = torch.load(checkpoint, map_location='cpu', weights_only=True)
    torch.manual_seed(0)
    model = SaliencyDetector(
        detector=EfficientNetLiteFPN(input_size=64, pretrained=True, freeze_encoder=True))
    model.init_weights()
    encoder_state = model.detector.encoder.state_dict()
    assert set(encoder_state) == {k for k in reference if not k.startswith('_fc.')}
    for key, value in encoder_state.items():
        assert torch.equal(value, reference[key]), key
    model.train()
    assert not any(m.training for m in model.detector.encoder.modules())
    assert all(m.training for m in model.detector.smooths.modules())
    images, samples = scene_batch()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    decoder_before = {k: v.clone() for k, v in model.detector.state_dict().items()
                      if not k.startswith('encoder.')}
    model.train_step(dict(inputs=images, data_samples=samples), optim_wrapper)
    # the encoder (weights and BN statistics) is untouched, the decoder learned
    for key, value in model.detector.encoder.state_dict().items():
        assert torch.equal(value, reference[key]), key
    assert not torch.equal(model.detector.predicts[-1].weight,
                           decoder_before['predicts.3.weight'])
    # fine-tuned (the demo config): gradients reach the encoder, BN keeps the ImageNet statistics
    tuned = EfficientNetLiteFPN(input_size=64, pretrained=False).train()
    assert all(p.requires_grad for p in tuned.encoder.parameters())
    assert not any(m.training for m in tuned.encoder.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))


def scene_batch():
    """Two 64x64 images, a bright square on dark noise, and their 0/1 masks (the batch that
    SaliencyDetector.train_step gets from its data preprocessor: already normalized)."""
    generator = torch.Generator().manual_seed(0)
    images = -0.5 + 0.2 * torch.randn(2, 3, 64, 64, generator=generator)
    masks = torch.zeros(2, 1, 64, 64, dtype=torch.long)
    masks[0, :, 10:34, 20:44] = 1
    masks[1, :, 30:60, 4:30] = 1
    images = torch.where(masks.bool(), torch.tensor(0.8), images)
    samples = [SegDataSample(gt_sem_seg=PixelData(data=m),
                             metainfo=dict(ori_shape=(64, 64), img_shape=(64, 64)))
               for m in masks]
    return images, samples


def test_training_steps_lower_the_deep_supervision_loss():
    torch.manual_seed(0)
    model = SaliencyDetector(detector=dict(type='EfficientNetLiteFPN', input_size=None,
                                           pretrained=False))
    images, samples = scene_batch()
    optim_wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    model.train()
    history = []
    for _ in range(6):
        log_vars = model.train_step(dict(inputs=images, data_samples=samples), optim_wrapper)
        history.append(log_vars['loss'].item())
    assert sorted(k for k in log_vars if k.startswith('loss_side')) == [
        f'loss_side{i}' for i in range(4)]
    assert history[-1] < 0.8 * history[0], history


@pytest.mark.parametrize('train_config,pseudo_config,input_size', [
    (TRAIN_CONFIG, PSEUDO_CONFIG, 192),
    ('configs/saliency/effnet-lite0-fpn_480iter_ecssd.py',
     'configs/demo/pseudo_effnet-lite0-gradcam_ecssd-fpn-erasing_demo.py', 160)])
def test_demo_configs_build_and_agree(train_config, pseudo_config, input_size):
    train_cfg = Config.fromfile(train_config)
    pseudo_cfg = Config.fromfile(pseudo_config)
    trained = dict(train_cfg.model.detector)
    used = dict(pseudo_cfg.saliency_generator.detector)
    init_cfg = used.pop('init_cfg')
    assert init_cfg['prefix'] == 'detector.'  # a SaliencyDetector runner checkpoint
    assert init_cfg['checkpoint'].endswith(f'iter_{train_cfg.train_cfg.max_iters}.pth')
    assert trained.pop('pretrained') and not used.pop('pretrained')
    assert trained == used  # the same architecture in training and in stage 2
    # stage 2 normalizes the detector's inputs as the training did
    train_pre, pseudo_pre = train_cfg.model.data_preprocessor, pseudo_cfg.saliency_preprocessor
    for key in ('mean', 'std', 'bgr_to_rgb'):
        assert train_pre[key] == pseudo_pre[key], key
    assert list(train_pre['mean']) == [127.0] * 3 and list(train_pre['std']) == [128.0] * 3
    assert train_cfg.param_scheduler[-1]['end'] == train_cfg.train_cfg.max_iters
    model = MODELS.build(train_cfg.model)
    assert isinstance(model.detector, EfficientNetLiteFPN)
    assert model.detector.input_size == input_size
    detector = MODELS.build(dict(used))
    assert detector.state_dict().keys() == model.detector.state_dict().keys()


@pytest.mark.parametrize('variant', ['lite0', 'lite2'])
def test_frozen_levels_stop_the_gradient_below_a_stage(variant):
    """frozen_levels=3: the stem and stages 1-2 (Lite0: blocks 0-2, Lite2: blocks 0-3, the
    repeats 1, 2 / 1, 3 of the stage tables) get no gradient, every later block does; the
    decoder's laterals are sized by the variant's level widths."""
    torch.manual_seed(0)
    model = SaliencyDetector(detector=EfficientNetLiteFPN(
        input_size=None, encoder_variant=variant, pretrained=False, frozen_levels=3))
    images, samples = scene_batch()
    model.train()
    sum(model(images, samples, mode='loss').values()).backward()
    encoder = model.detector.encoder
    first_tuned = {'lite0': 3, 'lite2': 4}[variant]
    for name, param in encoder.named_parameters():
        block = int(name.split('.')[1]) if name.startswith('_blocks.') else None
        frozen = name.startswith(('_conv_stem', '_bn0')) or (
            block is not None and block < first_tuned)
        if name.startswith(('_conv_head', '_bn1')):
            continue  # level 8: not computed for levels (2, 3, 5, 7)
        assert param.requires_grad is not frozen, name
        assert (param.grad is None) is frozen, name
    widths = {'lite0': [24, 40, 112, 320], 'lite2': [24, 48, 120, 352]}[variant]
    assert [m.in_channels for m in model.detector.laterals] == widths
    # the level modules partition the encoder, in network order
    modules = [m for level in range(9) for m in encoder.level_modules(level)]
    assert len(modules) == len(set(modules)) == 2 + len(encoder._blocks) + 2
    assert {p for m in modules for p in m.parameters()} == set(encoder.parameters())
    with pytest.raises(ValueError, match='level must be'):
        encoder.level_modules(9)


ECSSD_CONFIGS = ('configs/saliency/effnet-lite0-fpn_120iter_ecssd.py',
                 'configs/saliency/effnet-lite0-fpn_480iter_ecssd.py',
                 'configs/saliency/effnet-lite2-fpn_120iter_ecssd.py',
                 'configs/saliency/rbd_ecssd.py',
                 'configs/saliency/dhsnet_vgg16_20k_ecssd.py',
                 'configs/saliency/u2netp_20k_ecssd.py')


@pytest.mark.parametrize('path', ECSSD_CONFIGS)
def test_ecssd_configs_build_on_the_fixed_split(path):
    """Every ECSSD config trains on the 800 listed ids and validates on the 200 others, and
    its model builds."""
    cfg = Config.fromfile(path)
    splits = {}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        assert (dataset.type, dataset.img_dir, dataset.mask_dir) == (
            'SalientObjectDataset', 'images', 'masks')
        with open(dataset.ann_file) as f:
            splits[loader] = f.read().split()
    train, test = set(splits['train_dataloader']), set(splits['val_dataloader'])
    assert len(train) == 800 and len(test) == 200 and not train & test
    assert train | test == {f'{i:04d}' for i in range(1, 1001)}
    assert splits['test_dataloader'] == splits['val_dataloader']
    cfg.model.detector.pop('pretrained', None)
    cfg.model.detector.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    assert isinstance(model, SaliencyDetector)
