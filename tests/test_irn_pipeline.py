"""IRN stages 2-4 end to end at a reduced size on generated data: seed CAMs -> relation labels
-> IRNet (60 iterations) -> random walk; the walked labels must beat their seeds."""
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def seed_cams(mask: np.ndarray, rng: np.random.Generator):
    """CAM-like seeds of a ground-truth mask: each class's mask blurred well past its edges and
    scaled by a smooth random field (peaky, spilling over boundaries, uneven like real CAMs)."""
    class_ids = np.array([c for c in np.unique(mask) if 0 < c < 255])
    one_hot = torch.from_numpy(np.stack([mask == c for c in class_ids]).astype(np.float32))
    blurred = F.avg_pool2d(one_hot[None], 33, stride=1, padding=16, count_include_pad=False)[0]
    field = torch.from_numpy(rng.uniform(0.1, 1.0, (len(class_ids), 3, 3)).astype(np.float32))
    field = F.interpolate(field[None], size=mask.shape, mode='bilinear', align_corners=False)[0]
    cams = blurred**2 * field
    return (cams / cams.amax(dim=(1, 2), keepdim=True)).numpy(), class_ids


def miou(preds, gts, num_classes=21):
    from wsss_mm.evaluation.segmentation_scores import confusion_matrix, scores_from_confusion
    conf = sum(confusion_matrix(torch.as_tensor(p).long(), torch.from_numpy(g.astype(np.int64)),
                                num_classes) for p, g in zip(preds, gts))
    return scores_from_confusion(conf, [str(i) for i in range(num_classes)])['mIoU']


def test_irn_labels_beat_their_seeds(synthetic_voc, tmp_path):
    """IRN's steps as its scripts run them: relation-label PNGs from the seeds (with IRN's CRF),
    IRNet trained on them, boundary + random walk. The tiny backbone has no pretrained weights,
    so it trains with the head (``freeze_backbone=False``)."""
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper
    from mmseg.datasets import BaseSegDataset
    from torch.utils.data import DataLoader

    from wsss_mm.datasets import read_split
    from wsss_mm.evaluation.segmentation_scores import cams_to_label
    from wsss_mm.models import IRNet
    from wsss_mm.pseudo import RandomWalkRefiner, RelationLabelGenerator, irn_label_crf
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    img_ids = read_split(osp.join(synthetic_voc, 'ImageSets/Segmentation/train.txt'))[:24]
    split = tmp_path / 'split.txt'
    split.write_text('\n'.join(img_ids) + '\n')
    generator = RelationLabelGenerator(fg_threshold=0.30, bg_threshold=0.05, crf=irn_label_crf())
    masks, seeds = {}, {}
    for img_id in img_ids:
        mask = np.asarray(Image.open(osp.join(synthetic_voc, 'SegmentationClass', img_id + '.png')))
        image = np.asarray(Image.open(osp.join(synthetic_voc, 'JPEGImages', img_id + '.jpg')))
        masks[img_id], seeds[img_id] = mask, seed_cams(mask, rng)
        Image.fromarray(generator(*seeds[img_id], image)).save(tmp_path / f'{img_id}.png')

    def dataset(pipeline):
        return BaseSegDataset(data_root=synthetic_voc, ann_file=str(split), img_suffix='.jpg',
                              data_prefix=dict(img_path='JPEGImages', seg_map_path=str(tmp_path)),
                              pipeline=[dict(type='LoadImageFromFile'), *pipeline,
                                        dict(type='PackSegInputs')])

    model = IRNet(
        backbone=dict(type='ResNet', depth=18, base_channels=32, stem_channels=32,
                      strides=(1, 2, 2, 1), out_indices=(0, 1, 2, 3)),
        boundary_head=dict(type='ClassBoundaryHead', in_channels=(32, 32, 64, 128, 256),
                           scale_factors=(1, 1, 2, 4, 4), channels=16, num_groups=4),
        loss=dict(type='AffinityLoss', radius=5), freeze_backbone=False,
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[128.0] * 3, std=[64.0] * 3,
                               bgr_to_rgb=True, size_divisor=16, seg_pad_val=255))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    train_set = dataset([dict(type='LoadAnnotations'),
                         dict(type='RandomFlip', prob=0.5, direction='horizontal')])
    loader = DataLoader(train_set, batch_size=8, shuffle=True, collate_fn=pseudo_collate)
    model.train()
    for _ in range(20):
        for batch in loader:
            model.train_step(batch, optim)

    model.eval()
    images = dataset([])
    refiner = RandomWalkRefiner(radius=5, beta=10, exp_times=8, bg_threshold=0.25)
    seed_labels, walked_labels = [], []
    for index, img_id in enumerate(img_ids):
        inputs = model.data_preprocessor(pseudo_collate([images[index]]))['inputs']
        cams, class_ids = seeds[img_id]
        walked_labels.append(refiner(torch.from_numpy(cams), class_ids,
                                     model.predict_boundary(inputs)[0], out_size=cams.shape[1:]))
        seed_labels.append(cams_to_label(torch.from_numpy(cams), torch.from_numpy(class_ids),
                                         0.15))
    gts = [masks[i] for i in img_ids]
    seed_miou, irn_miou = miou(seed_labels, gts), miou(walked_labels, gts)
    assert irn_miou > seed_miou, (seed_miou, irn_miou)  # 62.3 -> 67.5 when written
