"""VOC images paired with pseudo-label PNGs (stage 4 training data)."""
import os.path as osp

from mmseg.datasets import PascalVOCDataset

from wsss_mm.registry import DATASETS


@DATASETS.register_module()
class PseudoLabelVOCDataset(PascalVOCDataset):
    """mmseg's VOC dataset whose label maps come from a pseudo-label directory.

    The directory is what ``tools/gen_pseudo.py`` writes (``<id>.png`` palette
    PNGs, 0..20, optionally 255). Ground-truth masks are never read, so the
    segmentation network is trained on image-level supervision only.

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
