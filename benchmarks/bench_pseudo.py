"""End-to-end pseudo-label generation throughput of PseudoLabelPipeline, per stage.

Each image goes through what ``tools/gen_pseudo.py`` does per image, file
writes excepted: read (the config's dataset pipeline: JPEG decode + packing, labels
from the XMLs read when the dataset is built), attention (Grad-CAM of the
VGG-16 classifier), saliency (detector with 2 erasing steps) and fuse
(Algorithm 1 on the stored-precision maps). The pipelines are built from the
Xu et al. configs with random weights (the classifier's ImageNet and the
DHSNet checkpoints are not loaded: the cost does not depend on the weights),
on synthetic VOC-style images of VOC size. The first image only warms up.

    python benchmarks/bench_pseudo.py                       # short run
    python benchmarks/bench_pseudo.py --device cuda --num-images 50
"""
import argparse
import os.path as osp
import tempfile
from typing import Dict, List

from _common import (VOC_SIZE, add_common_args, measure, print_report, quiet_mmengine, setup,
                     synthetic_voc_images)
from mmengine.config import Config

from wsss_mm.apis import PseudoLabelPipeline
from wsss_mm.io import quantize_saliency
from wsss_mm.registry import DATASETS
from wsss_mm.utils.setup_env import register_all_modules

CONFIGS = [
    'configs/xu2019/pseudo_vgg16-gradcam_rbd-erasing_voc12aug.py',
    'configs/xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py',
]
STAGES = ('read', 'attention', 'saliency', 'fuse')  # cam, cue, refine of gen_pseudo


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', nargs='+', default=CONFIGS,
                        help='pseudo-label configs (paths relative to the repository root)')
    parser.add_argument('--num-images', type=int, default=3, help='timed images per config')
    parser.add_argument('--height', type=int, default=VOC_SIZE[0])
    parser.add_argument('--width', type=int, default=VOC_SIZE[1])
    return add_common_args(parser).parse_args()


def random_init_config(path: str) -> Config:
    """The config with every checkpoint reference removed (random weights, no downloads)."""
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    cfg.model.head.init_cfg = None
    if 'init_cfg' in cfg.saliency_generator.detector:
        cfg.saliency_generator.detector.init_cfg = None
    return cfg


def run_stages(pipeline: PseudoLabelPipeline, dataset, index: int,
               device) -> Dict[str, float]:
    """Seconds of each stage for one image of the dataset."""
    seconds = {}
    seconds['read'], data = measure(lambda: dataset[index], device)
    seconds['attention'], (cams, class_ids) = measure(lambda: pipeline.attention(data), device)
    seconds['saliency'], saliency = measure(lambda: quantize_saliency(pipeline.cue(data)),
                                            device)
    seconds['fuse'], _ = measure(lambda: pipeline.refine(cams, class_ids, None, saliency),
                                 device)
    return seconds


def main() -> None:
    args = parse_args()
    device = setup(args)
    register_all_modules()
    quiet_mmengine()
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    rows = []
    with tempfile.TemporaryDirectory() as root:
        voc, img_ids = synthetic_voc_images(root, args.num_images + 1, (args.height, args.width),
                                            args.seed)
        for config in args.configs:
            cfg = random_init_config(osp.join(repo, config))
            dataset = DATASETS.build(dict(cfg.pseudo_dataset, data_root=voc,
                                          ann_file='ImageSets/Segmentation/train.txt'))
            pipeline = PseudoLabelPipeline.from_config(
                cfg, classifier_checkpoint=None, label_ids=dataset.metainfo['label_ids'],
                device=args.device)
            run_stages(pipeline, dataset, 0, device)  # warm-up
            totals = dict.fromkeys(STAGES, 0.0)
            for index in range(1, len(img_ids)):
                for stage, seconds in run_stages(pipeline, dataset, index, device).items():
                    totals[stage] += seconds
            total = sum(totals.values())
            cells: List[str] = [
                f'{1000 * totals[stage] / args.num_images:.0f} ({100 * totals[stage] / total:.0f}%)'
                for stage in STAGES
            ]
            detector = cfg.saliency_generator.detector.type
            rows.append((osp.basename(config), detector, f'{args.num_images / total:.3f}',
                         *cells))

    print_report(
        f'Pseudo-label generation (Grad-CAM VGG-16 + erasing saliency + Algorithm 1), '
        f'{args.height}x{args.width} synthetic images, {device.type}, '
        f'{args.num_images} timed images per row', device,
        ('config', 'saliency detector', 'img/s', *(f'{stage} ms/img (share)' for stage in STAGES)),
        rows)


if __name__ == '__main__':
    main()
