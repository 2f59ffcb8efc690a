"""Write the image-level labels of a config's datasets as an IRN-style ``cls_labels.npy``.

  python tools/make_cls_labels.py configs/xu2019/cls_vgg16_15e_voc12aug.py \
      data/VOCdevkit/VOC2012/cls_labels.npy --irn-keys

Reads the labels the datasets give (VOC: from Annotations/*.xml) for every image of the
datasets named by --datasets (default: the train and val datasets; IRN's file covers
train_aug and val) and writes ``{image id: float32 multi-hot [C]}``. --irn-keys stores VOC
ids as IRN's integers (2007_000032 -> 2007000032), so IRN-based code reads the file as is.
"""
import argparse

from mmengine.config import Config

from wsss_mm.datasets import cls_labels_of, write_cls_labels
from wsss_mm.registry import DATASETS
from wsss_mm.utils.config_check import CfgOptionsAction, apply_cfg_options
from wsss_mm.utils.setup_env import register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a config with image-level datasets')
    parser.add_argument('out', help='output .npy file')
    parser.add_argument('--datasets', nargs='+',
                        default=['train_dataloader.dataset', 'val_dataloader.dataset'],
                        help='dotted config keys of the datasets to include')
    parser.add_argument('--irn-keys', action='store_true', help='VOC ids as IRN integers')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    # the tool reads the top-level sections of --datasets (and the registry scope)
    reads = {key.split('.')[0]: None for key in args.datasets}
    apply_cfg_options(cfg, args.cfg_options, dict(reads, default_scope=None), 'make_cls_labels')
    labels = {}
    for key in args.datasets:
        data_cfg = cfg
        for part in key.split('.'):
            if part not in data_cfg:
                raise SystemExit(f'make_cls_labels: --datasets {key}: the config has no {part!r}')
            data_cfg = data_cfg[part]
        dataset = DATASETS.build(dict(data_cfg, pipeline=[]))
        labels.update(cls_labels_of(dataset))
    write_cls_labels(args.out, labels, integer_voc_keys=args.irn_keys)
    print(f'[make_cls_labels] {len(labels)} images -> {args.out}')


if __name__ == '__main__':
    main()
