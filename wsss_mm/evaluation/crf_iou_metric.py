"""mIoU of a segmentor with and without dense-CRF refinement, in one test pass."""
import io
import multiprocessing
import os
import os.path as osp
import tarfile
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import barrier, is_main_process
from mmseg.evaluation import IoUMetric

from wsss_mm.datasets.voc import VOC_PALETTE
from wsss_mm.evaluation.label_checks import check_label_values
from wsss_mm.io import read_rgb
from wsss_mm.registry import METRICS, POSTPROCESSORS
from wsss_mm.utils.io import atomic_write_bytes, save_png_atomic

#: Folder of the VOC test-server PNGs under ``output_dir`` (and inside the tar.gz).
SUBMISSION_DIR = osp.join('results', 'VOC2012', 'Segmentation', 'comp6_test_cls')


def write_submission_tar(output_dir: str) -> str:
    """Pack ``output_dir/results/...comp6_test_cls/*.png`` into ``output_dir/results.tar.gz``.

    The archive holds the paths the evaluation server expects
    (``results/VOC2012/Segmentation/comp6_test_cls/<id>.png``); written atomically.
    """
    folder = osp.join(output_dir, SUBMISSION_DIR)
    names = sorted(n for n in os.listdir(folder) if n.endswith('.png'))
    if not names:
        raise FileNotFoundError(f'no PNGs to pack in {folder}')
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name in names:
            tar.add(osp.join(folder, name), arcname=osp.join(SUBMISSION_DIR, name))
    path = osp.join(output_dir, 'results.tar.gz')
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _crf_labels(crf, img_path: str, probs: np.ndarray) -> np.ndarray:
    """CRF-refined label map of one image (runs in a worker process)."""
    return crf(read_rgb(img_path), probs).argmax(0).astype(np.uint8)


class _Immediate:
    """A finished result with the ``AsyncResult`` interface (``nproc=1``)."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def get(self) -> np.ndarray:
        return self.value

    def ready(self) -> bool:
        return True


@METRICS.register_module()
class CRFIoUMetric(IoUMetric):
    """mmseg's :class:`IoUMetric`, plus the same scores after a dense CRF.

    Each test image's softmax (``seg_logits``, at the original size) is refined
    by the configured CRF in ``nproc`` worker processes while the network keeps
    running; at most ``max_pending`` images wait in the queue, bounding memory.
    Keys: ``mIoU``, ``aAcc``, ``mAcc`` … and ``mIoU_crf``, ``aAcc_crf`` …

    With ``format_only=True`` nothing is scored and no label is read (a test split
    has none): the label maps at the original image size (CRF-refined when
    ``crf`` is set) are written as VOC palette PNGs under
    ``output_dir/results/VOC2012/Segmentation/comp6_test_cls/``, then packed
    into ``output_dir/results.tar.gz`` for the evaluation server.

    Ground-truth values outside the classes and the ignore index raise ``ValueError``
    naming the mask file (mmseg's ``IoUMetric`` would drop them from the confusion
    matrix and report a higher mIoU); with ``crf=None`` it scores as ``IoUMetric``.

    Args:
        crf: Config of the post-processor (``DenseCRF``); ``None`` disables it.
        nproc: CRF worker processes (1 = in this process).
        max_pending: Largest number of queued CRF jobs.
        **kwargs: :class:`mmseg.evaluation.IoUMetric` arguments.
    """

    def __init__(self,
                 crf: Optional[dict] = dict(type='DenseCRF'),
                 nproc: int = 1,
                 max_pending: int = 16,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.crf = POSTPROCESSORS.build(crf) if crf is not None else None
        self.nproc = nproc
        self.max_pending = max(max_pending, nproc)
        self._pool = None
        self._pending: Deque = deque()

    def _submit(self, img_path: str, probs: np.ndarray):
        if self.nproc <= 1:
            return _Immediate(_crf_labels(self.crf, img_path, probs))
        if self._pool is None:
            self._pool = multiprocessing.get_context('fork').Pool(self.nproc)
        while len(self._pending) >= self.max_pending:
            self._finish_one()
        return self._pool.apply_async(_crf_labels, (self.crf, img_path, probs))

    def _finish_one(self) -> None:
        sample_info, handle = self._pending.popleft()
        self._store(sample_info, torch.from_numpy(handle.get().astype(np.int64)))

    def _store(self, info: Dict, crf_pred: Optional[torch.Tensor]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        if self.format_only:
            pred = crf_pred if crf_pred is not None else info['pred']
            name = osp.splitext(osp.basename(info['img_path']))[0]
            path = osp.join(self.output_dir, SUBMISSION_DIR, name + '.png')
            save_png_atomic(path, pred.numpy().astype(np.uint8), VOC_PALETTE)
            return
        raw = self.intersect_and_union(info['pred'], info['label'], num_classes,
                                       self.ignore_index)
        refined = None if crf_pred is None else self.intersect_and_union(
            crf_pred, info['label'], num_classes, self.ignore_index)
        self.results.append((raw, refined))

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            info = dict(pred=sample['pred_sem_seg']['data'].squeeze(0).cpu(),
                        img_path=sample['img_path'])
            if not self.format_only:
                gt = sample['gt_sem_seg']['data'].squeeze(0).cpu()
                check_label_values(gt, sample.get('seg_map_path', sample['img_path']),
                                   len(self.dataset_meta['classes']), self.ignore_index)
                info['label'] = gt.to(info['pred'])
            if self.crf is None:
                self._store(info, None)
                continue
            probs = sample['seg_logits']['data'].float().softmax(0).cpu().numpy()
            self._pending.append((info, self._submit(sample['img_path'], probs)))

    def evaluate(self, size: int) -> dict:
        """Drain this rank's CRF queue, then gather and score as mmseg does (or pack the PNGs)."""
        while self._pending:
            self._finish_one()
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
        if self.format_only:
            barrier()  # every rank has written its PNGs
            if is_main_process():
                write_submission_tar(self.output_dir)
            return {}
        return super().evaluate(size)

    def compute_metrics(self, results: List) -> Dict[str, float]:
        metrics = super().compute_metrics([raw for raw, _ in results])
        if self.crf is not None:
            refined = super().compute_metrics([crf for _, crf in results])
            metrics.update({f'{key}_crf': value for key, value in refined.items()})
        return metrics
