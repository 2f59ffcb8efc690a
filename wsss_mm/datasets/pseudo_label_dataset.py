"""VOC images paired with pseudo-label PNGs (stage 4 training data)."""
import os.path as osp
from typing import List

from mmseg.datasets import PascalVOCDataset

from wsss_mm.evaluation.label_checks import check_label_values
from wsss_mm.registry import DATASETS


@DATASETS.register_module()
class PseudoLabelVOCDataset(PascalVOCDataset):
    """mmseg's VOC dataset whose label maps come from a pseudo-label directory.

    The directory is what ``tools/gen_pseudo.py`` writes (``<id>.png`` palette
    PNGs, 0..20, optionally 255). Ground-truth masks are never read, so the
    segmentation network is trained on image-level supervision only.

    A split image without its pseudo label raises when the dataset is built (naming
    the missing files), not when the file is first drawn; a label value that is
    neither a class nor 255 raises when the label is loaded, naming the file.

    Args:
        pseudo_label_dir: Folder of ``<id>.png`` pseudo labels; a relative path is
            taken from the current directory (like ``work_dirs/``), not from
            ``data_root``.
        **kwargs: Arguments of :class:`mmseg.datasets.PascalVOCDataset`
            (``data_root``, ``ann_file``, ``pipeline`` ...).
    """

    def __init__(self, pseudo_label_dir: str, img_dir: str = 'JPEGImages', **kwargs) -> None:
        kwargs['data_prefix'] = dict(img_path=img_dir,
                                     seg_map_path=osp.abspath(pseudo_label_dir))
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """mmseg's list, refused if any image's pseudo-label file is missing."""
        data_list = super().load_data_list()
        missing = [d['seg_map_path'] for d in data_list if not osp.isfile(d['seg_map_path'])]
        if missing:
            listed = ', '.join(osp.basename(p) for p in missing[:10])
            raise FileNotFoundError(
                f'{len(missing)} of the {len(data_list)} images of {self.ann_file} have no '
                f'pseudo label in {self.data_prefix["seg_map_path"]} ({listed}'
                f'{" ..." if len(missing) > 10 else ""}); run tools/gen_pseudo.py to the end')
        return data_list

    def prepare_data(self, idx: int):
        """The pipeline's sample, refused if the loaded label holds a value that is
        neither a class nor 255 (cross-entropy would fail naming no file)."""
        sample = super().prepare_data(idx)
        data_sample = sample.get('data_samples') if isinstance(sample, dict) else None
        if data_sample is not None and 'gt_sem_seg' in data_sample:
            check_label_values(data_sample.gt_sem_seg.data[0], self.get_data_info(idx)[
                'seg_map_path'], len(self.metainfo['classes']), self.ignore_index)
        return sample
