"""Images + IRN relation labels computed from stored seed CAMs, to train IRNet."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset

from wsss_mm.datasets.voc import VOC_CLASSES, VOC_PALETTE, VOC_SEG_CLASSES, read_split
from wsss_mm.pseudo.relation_labels import RelationLabelGenerator, irn_label_crf
from wsss_mm.registry import DATASETS, TRANSFORMS

__all__ = ['RelationLabelDataset', 'LoadRelationLabels']


@DATASETS.register_module()
class RelationLabelDataset(BaseDataset):
    """Split images with the path of their seed-CAM file ``<cam_dir>/<img_id>.npz``.

    The CAM files hold ``cams`` (``[K, H, W]`` in [0, 1]) and ``class_ids``
    (``[K]`` VOC ids), as ``tools/gen_pseudo.py`` writes them; the pipeline's
    :class:`LoadRelationLabels` turns them into the label map.

    Args:
        data_root: Root of ``VOCdevkit/VOC2012``.
        ann_file: Split file relative to ``data_root``.
        cam_dir: Folder of the CAM files.
        data_prefix: ``img_path`` folder under ``data_root``.
        pipeline: mmcv transforms.
    """
    METAINFO = dict(classes=VOC_CLASSES, seg_classes=VOC_SEG_CLASSES,
                    palette=[VOC_PALETTE[i * 3:i * 3 + 3] for i in range(21)])

    def __init__(self,
                 data_root: str,
                 ann_file: str,
                 cam_dir: str,
                 data_prefix: Optional[Dict[str, str]] = None,
                 pipeline: Sequence = (),
                 img_suffix: str = '.jpg',
                 **kwargs) -> None:
        self.cam_dir = cam_dir
        self.img_suffix = img_suffix
        prefix = dict(img_path='JPEGImages')
        prefix.update(data_prefix or {})
        super().__init__(data_root=data_root, ann_file=ann_file, data_prefix=prefix,
                         pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        """One entry per split id; a missing CAM file is an error naming it."""
        data_list = []
        for img_id in read_split(self.ann_file):
            cam_path = osp.join(self.cam_dir, img_id + '.npz')
            if not osp.isfile(cam_path):
                raise FileNotFoundError(f'no seed CAM file {cam_path} for image {img_id} of '
                                        f'{self.ann_file}')
            data_list.append(dict(
                img_id=img_id, cam_path=cam_path, seg_fields=[],
                img_path=osp.join(self.data_prefix['img_path'], img_id + self.img_suffix)))
        return data_list


@TRANSFORMS.register_module()
class LoadRelationLabels(BaseTransform):
    """Adds ``gt_seg_map``: the relation labels of ``cam_path``'s CAMs on the loaded image.

    Place it after ``LoadImageFromFile`` and before any geometric transform.

    Args:
        fg_threshold: Confident-foreground CAM threshold (IRN: 0.30).
        bg_threshold: Confident-background CAM threshold (IRN: 0.05).
        crf: Refine both thresholded maps with IRN's dense CRF.
        gt_prob: The CRF unary's probability of the thresholded label.
        ignore_index: Label of unconfident pixels.
    """

    def __init__(self, fg_threshold: float = 0.30, bg_threshold: float = 0.05,
                 crf: bool = True, gt_prob: float = 0.7, ignore_index: int = 255) -> None:
        self.generator = RelationLabelGenerator(
            fg_threshold=fg_threshold, bg_threshold=bg_threshold,
            crf=irn_label_crf() if crf else None, gt_prob=gt_prob, ignore_index=ignore_index)

    def transform(self, results: dict) -> dict:
        path = results['cam_path']
        with np.load(path) as data:
            missing = {'cams', 'class_ids'} - set(data.files)
            if missing:
                raise KeyError(f'{path} lacks {sorted(missing)} (has {data.files})')
            cams, class_ids = data['cams'].astype(np.float32), data['class_ids']
        rgb = np.ascontiguousarray(results['img'][..., ::-1])  # LoadImageFromFile gives BGR
        if cams.shape[1:] != rgb.shape[:2]:
            raise ValueError(f'{path}: CAMs of size {cams.shape[1:]} for an image of size '
                             f'{rgb.shape[:2]} ({results["img_path"]})')
        results['gt_seg_map'] = self.generator(cams, class_ids, rgb)
        results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(generator={self.generator!r})'
