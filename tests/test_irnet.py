"""IRNet: boundary head, affinity loss against a brute-force float64 sum, the model, configs."""
import numpy as np
import pytest
import torch
from test_efficientnet_lite import checkpoint_or_skip
from test_random_walk import brute_force_pairs, brute_force_path

EPS32 = float(np.finfo(np.float32).eps)
REPO_CONFIGS = 'configs/irn'
EFFNET_IRNET = 'configs/_base_/models/irnet_effnet-lite0.py'


@pytest.fixture(scope='module', autouse=True)
def registered():
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()


def tiny_irnet():
    from wsss_mm.models import IRNet
    return IRNet(
        backbone=dict(type='ResNet', depth=18, strides=(1, 2, 2, 1), out_indices=(0, 1, 2, 3)),
        boundary_head=dict(type='ClassBoundaryHead', in_channels=(64, 64, 128, 256, 512),
                           scale_factors=(1, 1, 2, 4, 4), channels=8, num_groups=2),
        loss=dict(type='AffinityLoss', radius=3))


def test_affinity_loss_equals_brute_force_sum():
    from wsss_mm.models.losses import AffinityLoss
    gen = torch.Generator().manual_seed(0)
    boundary = torch.rand(1, 4, 5, generator=gen, dtype=torch.float64)
    labels = torch.tensor([[[0, 0, 3, 3, 255], [0, 255, 3, 7, 7], [0, 0, 0, 7, 7],
                            [255, 0, 0, 0, 7]]])
    eps = 1e-5
    terms = dict(bg=[], fg=[], neg=[])
    for p, q in brute_force_pairs(4, 5, 3):
        a, b = labels[0][p].item(), labels[0][q].item()
        if 255 in (a, b):
            continue
        aff = 1 - max(boundary[0][k].item() for k in brute_force_path(p, q))
        if a != b:
            terms['neg'].append(-np.log(1 + eps - aff))
        else:
            terms['bg' if a == 0 else 'fg'].append(-np.log(aff + eps))
    assert all(terms.values())
    mean = {k: sum(v) / (len(v) + eps) for k, v in terms.items()}
    losses = AffinityLoss(radius=3, eps=eps)(boundary, labels)
    assert losses['loss_aff_pos'].item() == pytest.approx((mean['bg'] + mean['fg']) / 4, rel=1e-12)
    assert losses['loss_aff_neg'].item() == pytest.approx(mean['neg'] / 2, rel=1e-12)


def test_boundary_head_grid_and_crop():
    from wsss_mm.models import ClassBoundaryHead
    head = ClassBoundaryHead(in_channels=(4, 6, 8), scale_factors=(1, 2, 4), channels=4,
                             num_groups=2)
    feats = [torch.rand(2, 4, 13, 10), torch.rand(2, 6, 7, 5), torch.rand(2, 8, 4, 3)]
    assert head(feats).shape == (2, 1, 13, 10)
    with pytest.raises(ValueError, match='scale_factors'):
        head([feats[0], feats[1], torch.rand(2, 8, 3, 3)])


def test_irnet_grid_labels_take_the_cell_centres():
    model = tiny_irnet()
    labels = torch.arange(8 * 9).view(1, 8, 9)
    grid = model.grid_labels(labels, torch.Size((2, 3)))
    # rows 2, 6 and columns 2, 6, min(10, 8): the centre pixel of each 4 x 4 cell
    assert grid.tolist() == [[[2 * 9 + 2, 2 * 9 + 6, 2 * 9 + 8], [6 * 9 + 2, 6 * 9 + 6, 6 * 9 + 8]]]


def test_irnet_trains_only_the_head_and_descends():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    model = tiny_irnet()
    model.train()
    assert not model.backbone.training and model.boundary_head.training
    images = torch.rand(2, 3, 64, 72)
    images[..., 36:] += 1.0  # two regions: the boundary is the vertical line x = 36
    labels = torch.zeros(2, 64, 72, dtype=torch.long)
    labels[:, :, 36:] = 5
    labels[:, :, 34:38] = 255
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        samples.append(sample)
    assert model(images).shape == (2, 1, 16, 18)
    losses = model(images, samples, mode='loss')
    assert losses['loss_aff_pos'] > 0 and losses['loss_aff_neg'] > 0  # both pair kinds exist
    before = sum(losses.values())
    before.backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is not None for p in model.boundary_head.parameters())
    # a small gradient step must lower the loss (first-order descent)
    with torch.no_grad():
        for p in model.boundary_head.parameters():
            p -= 1e-3 * p.grad
        after = sum(model(images, samples, mode='loss').values())
    assert after < before
    boundary = model.predict_boundary(images)
    assert boundary.shape == (2, 16, 18)
    # flip averaging makes the prediction flip-equivariant
    flipped = model.predict_boundary(images.flip(-1)).flip(-1)
    assert torch.allclose(boundary, flipped, atol=16 * EPS32)


def test_irn_configs_build():
    from mmengine.config import Config

    from wsss_mm.cam import CAMGenerator
    from wsss_mm.registry import CAM_GENERATORS, MODELS, REFINERS
    cls_cfg = Config.fromfile(f'{REPO_CONFIGS}/cls_r50-gap-os16_5e_voc12aug.py')
    cls_cfg.model.backbone.init_cfg = None
    classifier = MODELS.build(cls_cfg.model)
    assert classifier.head.fc.bias is None
    assert classifier.backbone(torch.rand(1, 3, 64, 64))[-1].shape[-1] == 4  # stride 16
    generator = CAM_GENERATORS.build(dict(cls_cfg.cam_generator, model=classifier))
    assert isinstance(generator, CAMGenerator) and generator.scales == (1.0, 0.5, 1.5, 2.0)
    assert cls_cfg.train_dataloader.batch_size == 16 and cls_cfg.train_cfg.max_epochs == 5

    irn_cfg = Config.fromfile(f'{REPO_CONFIGS}/irnet_r50_3e_voc12aug.py')
    irn_cfg.model.backbone.init_cfg = None
    irnet = MODELS.build(irn_cfg.model)
    assert irnet(torch.rand(1, 3, 64, 80)).shape == (1, 1, 16, 20)
    assert irn_cfg.train_dataloader.batch_size == 32 and irn_cfg.train_cfg.max_epochs == 3
    pseudo_cfg = Config.fromfile(f'{REPO_CONFIGS}/pseudo_r50-cam-irnet_voc12aug.py')
    pseudo_cfg.boundary_generator.backbone.init_cfg = None
    assert pseudo_cfg.boundary_generator == irn_cfg.model  # one IRNet architecture
    refiner = REFINERS.build(pseudo_cfg.refiner)
    assert (refiner.pairs.radius, refiner.beta, refiner.exp_times, refiner.bg_threshold) == (
        5, 10.0, 8, 0.25)


def effnet_irnet():
    """IRNet of the real-photo demo without its ImageNet weights (random trunk)."""
    from mmengine.config import Config

    from wsss_mm.registry import MODELS
    cfg = Config.fromfile(EFFNET_IRNET).boundary_generator
    cfg.backbone.pretrained = False
    return MODELS.build(cfg)


def relation_samples(labels):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        samples.append(sample)
    return samples


def test_effnet_irnet_levels_grid_and_frozen_trunk():
    """The EfficientNet-Lite0 pyramid (strides 4, 8, 16, 16, 16) gives boundary logits at
    ceil(H/4) x ceil(W/4); an optimizer step over all parameters (as the runner builds it)
    changes the head but neither the trunk's weights nor its BatchNorm statistics."""
    torch.manual_seed(0)
    model = effnet_irnet()
    feats = model.extract_feats(torch.rand(1, 3, 100, 132))
    assert [tuple(f.shape[1:]) for f in feats] == [(24, 25, 33), (40, 13, 17), (112, 7, 9),
                                                   (320, 7, 9), (1280, 7, 9)]
    assert model(torch.rand(1, 3, 100, 132)).shape == (1, 1, 25, 33)
    model.train()
    assert not any(m.training for m in model.backbone.modules())
    images = torch.rand(2, 3, 64, 80) * 255 - 127
    images[..., 40:] += 100
    labels = torch.zeros(2, 64, 80, dtype=torch.long)
    labels[:, :, 40:] = 3
    trunk = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    head = {k: v.clone() for k, v in model.boundary_head.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    loss = sum(model(images, relation_samples(labels), mode='loss').values())
    loss.backward()
    optimizer.step()
    assert all(p.grad is None for p in model.backbone.parameters())
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, trunk[key]), key  # weights and running statistics
    changed = [k for k, v in model.boundary_head.state_dict().items()
               if not torch.equal(v, head[k])]
    assert sorted(changed) == sorted(k for k, _ in model.boundary_head.named_parameters())


def test_effnet_irnet_configs_build_and_load_imagenet_weights():
    from mmengine.config import Config

    from wsss_mm.registry import MODELS
    train_cfg = Config.fromfile('configs/demo/irnet_effnet-lite0_60iter_demo.py')
    pseudo_cfg = Config.fromfile(
        'configs/demo/pseudo_effnet-lite0-gradcam_irn-effnet-lite0_demo.py')
    tiny_pseudo_cfg = Config.fromfile('configs/demo/pseudo_effnet-lite0-gradcam_irn_demo.py')
    tiny_cfg = Config.fromfile('configs/demo/irnet_tiny-r18_60iter_demo.py')
    assert pseudo_cfg.boundary_generator == train_cfg.model  # one IRNet architecture
    assert pseudo_cfg.refiner == tiny_pseudo_cfg.refiner  # the same walk as the tiny IRNet's
    assert pseudo_cfg.cam_generator == tiny_pseudo_cfg.cam_generator  # and the same seeds
    classifier_cfg = Config.fromfile('configs/demo/cls_effnet-lite0-gap_15e_demo.py')
    for key in ('mean', 'std'):  # the classifier's input normalization
        assert train_cfg.model.data_preprocessor[key] == classifier_cfg.model.data_preprocessor[key]
    # the same relation-label data as the tiny demo IRNet
    assert train_cfg.train_dataloader == tiny_cfg.train_dataloader
    assert train_cfg.train_cfg.max_iters == 60 and train_cfg.model.freeze_backbone
    checkpoint = checkpoint_or_skip()
    model = MODELS.build(train_cfg.model)
    model.init_weights()
    reference = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = model.backbone.state_dict()
    assert set(state) == {k for k in reference if not k.startswith('_fc.')}
    for key, value in state.items():
        assert torch.equal(value, reference[key]), key
