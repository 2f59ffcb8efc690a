"""Images + IRN relation labels of their stored seed CAMs, to train IRNet.

The images, class names and label values come from a registered image-level dataset
(``dataset``, e.g. :class:`~wsss_mm.datasets.VOCImageLevelDataset`); the seeds are
the CAM files of a ``tools/gen_pseudo.py`` work dir (read through :mod:`wsss_mm.io`).
:class:`LoadRelationLabels` computes each image's relation labels once and stores
them in the work dir (``relation_labels/<id>.png``), so later epochs read them; the
folder's record (:mod:`wsss_mm.io.stage_record`) holds the labels' settings and the seeds'
record, and labels stored with other settings or from other seeds are computed again.
"""
import os.path as osp
from typing import List, Sequence, Union

from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log

from wsss_mm.io import (InputError, WorkDirLayout, clear_stage, make_record, read_cams,
                        read_label_map, read_record, record_digest, stage_state, write_record,
                        write_relation_labels)
from wsss_mm.pseudo.relation_labels import RelationLabelGenerator, irn_label_crf
from wsss_mm.registry import DATASETS, TRANSFORMS

__all__ = ['RelationLabelDataset', 'LoadRelationLabels']


@DATASETS.register_module()
class RelationLabelDataset(BaseDataset):
    """The images of an image-level dataset with their seed-CAM and relation-label files.

    Args:
        dataset: The image-level dataset (or its config); its ``metainfo`` (classes,
            label values, palette) becomes this dataset's.
        seed_dir: The gen_pseudo work dir whose ``cams/<id>.npz`` are the seeds.
        cache_relation_labels: Store each image's relation labels under
            ``seed_dir/relation_labels/`` on first use and read them afterwards.
        pipeline: mmcv transforms (with :class:`LoadRelationLabels`).
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 seed_dir: str,
                 cache_relation_labels: bool = True,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        self.images = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.layout = WorkDirLayout(seed_dir)
        self.cache_relation_labels = cache_relation_labels
        super().__init__(metainfo=dict(self.images.metainfo), pipeline=list(pipeline),
                         serialize_data=False, **kwargs)
        if cache_relation_labels:
            self._check_stored_labels()

    def _check_stored_labels(self) -> None:
        """Compare the relation-label folder's record with this dataset's settings and
        seeds: a match keeps the stored labels, a difference deletes them (they are
        computed again), stored labels without a record are refused."""
        loaders = [t for t in self.pipeline.transforms if isinstance(t, LoadRelationLabels)]
        if not loaders:
            return
        folder = self.layout.folder('relation')
        record = make_record(
            'relation', dict(LoadRelationLabels=loaders[0].settings),
            upstream=dict(cam=record_digest(read_record(self.layout.folder('cam')))))
        state, differences = stage_state(folder, record)
        if state == 'unrecorded':
            raise InputError(f'{folder} holds relation labels without a record of what made '
                             'them (an older wsss_mm): delete its files to compute them again')
        if get_dist_info()[0] == 0 and state != 'same':
            if state == 'changed':
                removed = clear_stage(folder)
                print_log(f'{folder}: deleted {removed} relation labels made from other '
                          f'inputs ({"; ".join(differences)}); they are computed again',
                          logger='current')
            write_record(folder, record)
        barrier()

    def load_data_list(self) -> List[dict]:
        """One entry per image; a missing CAM file is an error naming it."""
        label_ids = tuple(self.metainfo['label_ids'])
        data_list = []
        for index in range(len(self.images)):
            info = self.images.get_data_info(index)
            img_id = info['img_id']
            cam_path = self.layout.path('cam', img_id)
            if not osp.isfile(cam_path):
                raise FileNotFoundError(f'no seed CAM file {cam_path} for image {img_id} '
                                        f'(run tools/gen_pseudo.py --stages cam first)')
            relation = self.layout.path('relation', img_id) if self.cache_relation_labels else None
            data_list.append(dict(img_id=img_id, img_path=info['img_path'], cam_path=cam_path,
                                  relation_path=relation, label_ids=label_ids, seg_fields=[]))
        return data_list


@TRANSFORMS.register_module()
class LoadRelationLabels(BaseTransform):
    """Adds ``gt_seg_map``: the relation labels of ``cam_path``'s CAMs on the loaded image.

    Reads ``relation_path`` where it exists, else computes the labels (and stores
    them there when the path is set). Place it after ``LoadImageFromFile`` and before
    any geometric transform.

    Args:
        fg_threshold: Confident-foreground CAM threshold (IRN: 0.30).
        bg_threshold: Confident-background CAM threshold (IRN: 0.05).
        crf: Refine both thresholded maps with IRN's dense CRF.
        gt_prob: The CRF unary's probability of the thresholded label.
        ignore_index: Label of unconfident pixels.
    """

    def __init__(self, fg_threshold: float = 0.30, bg_threshold: float = 0.05,
                 crf: bool = True, gt_prob: float = 0.7, ignore_index: int = 255) -> None:
        #: what the labels depend on (the relation-label folder's record)
        self.settings = dict(fg_threshold=fg_threshold, bg_threshold=bg_threshold, crf=crf,
                             gt_prob=gt_prob, ignore_index=ignore_index)
        self.generator = RelationLabelGenerator(
            fg_threshold=fg_threshold, bg_threshold=bg_threshold,
            crf=irn_label_crf() if crf else None, gt_prob=gt_prob, ignore_index=ignore_index)

    def transform(self, results: dict) -> dict:
        relation_path = results.get('relation_path')
        size = results['img'].shape[:2]
        if relation_path and osp.isfile(relation_path):
            labels = read_label_map(relation_path)
            if labels.shape != size:
                raise InputError(f'{relation_path}: relation labels of size {labels.shape} for '
                                 f'an image of size {size} ({results["img_path"]})')
        else:
            path = results['cam_path']
            cams, class_ids = read_cams(path)
            unknown = sorted(set(int(v) for v in class_ids) - set(results['label_ids']))
            if unknown:
                raise InputError(f'{path}: class ids {unknown} are not label values of the '
                                 f'dataset')
            if tuple(cams.shape[1:]) != size:
                raise InputError(f'{path}: CAMs of size {tuple(cams.shape[1:])} for an image '
                                 f'of size {size} ({results["img_path"]})')
            rgb = results['img'][..., ::-1]  # LoadImageFromFile gives BGR
            labels = self.generator(cams.numpy(), class_ids, rgb)
            if relation_path:
                write_relation_labels(relation_path, labels)
        results['gt_seg_map'] = labels
        results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(generator={self.generator!r})'
