"""Independent recomputations of the tools' scores: mmseg's IoUMetric on label maps made here.

They share no code with the wsss_mm scorers, the Runner, the datasets or CRFIoUMetric, so a
tool whose numbers match them cannot be scoring the wrong thing.
"""
import os.path as osp
from typing import Dict, Iterable, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def iou_metric_miou(pairs: Iterable[Tuple[np.ndarray, np.ndarray]]) -> float:
    """mmseg ``IoUMetric`` mIoU (%, rounded to 2 decimals by mmseg) of (pred, gt) label maps."""
    from mmengine.structures import PixelData
    from mmseg.evaluation import IoUMetric
    from mmseg.structures import SegDataSample

    from wsss_mm.datasets.voc import VOC_SEG_CLASSES
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=VOC_SEG_CLASSES)
    for pred, gt in pairs:
        sample = SegDataSample()
        sample.pred_sem_seg = PixelData(data=torch.as_tensor(np.asarray(pred, np.int64))[None])
        sample.gt_sem_seg = PixelData(data=torch.as_tensor(np.asarray(gt, np.int64))[None])
        metric.process({}, [sample.to_dict()])
    return float(metric.compute_metrics(metric.results)['mIoU'])


def read_label(path: str) -> np.ndarray:
    """A label PNG as its index array."""
    return np.array(Image.open(path))


def cam_labels(npz_path: str, threshold: float) -> np.ndarray:
    """Label map of stored CAMs: the class of the largest map where it exceeds the threshold."""
    with np.load(npz_path) as data:
        cams, ids = data['cams'].astype(np.float32), data['class_ids'].astype(np.int64)
    return np.where(cams.max(0) > threshold, ids[cams.argmax(0)], 0)


def algorithm1_labels(cams: np.ndarray, class_ids, sal_u8: np.ndarray, gamma1: float,
                      gamma2: float) -> np.ndarray:
    """Algorithm 1 of Xu et al. in float64: M_c = (A_c + S) / 2 with S = saliency / 255;
    background where max_c M_c < gamma1 or S < gamma2, else the class of the largest M_c
    (the first on ties)."""
    s = sal_u8.astype(np.float64) / 255
    m = (cams.astype(np.float64) + s[None]) / 2
    return np.where((m.max(0) < gamma1) | (s < gamma2), 0,
                    np.asarray(class_ids, dtype=np.int64)[m.argmax(0)])


def reference_seg_scores(cfg_path: str, ckpt: str, voc: str,
                         ids: List[str]) -> Dict[str, float]:
    """mIoU of a segmentor checkpoint on images of ``voc``, with and without dense CRF.

    Computed without the Runner, the dataset, the pipeline or CRFIoUMetric: mmcv decoding
    (as LoadImageFromFile), the rescaling of the config's test ``Resize`` if it has one
    (``mmcv.imrescale``, bilinear), its mean/std, ``forward_scales``, bilinear resize to
    the original image, argmax; pydensecrf called directly with DeepLab's parameters on the PIL-decoded
    RGB image; GT from SegmentationClass. One thread, as the tools ran, so both sides round
    alike.
    """
    import mmcv
    import pydensecrf.densecrf as dcrf
    from mmengine.config import Config
    from pydensecrf.utils import unary_from_softmax

    from wsss_mm.registry import MODELS
    from wsss_mm.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(cfg_path)
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(ckpt, map_location='cpu', weights_only=True)['state_dict'])
    model.eval()
    pre = cfg.model.data_preprocessor
    resizes = [t for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'Resize']
    assert all(t.get('keep_ratio') for t in resizes), 'only keep-ratio test resizing is rebuilt'
    mean, std = (torch.tensor(v, dtype=torch.float32)[:, None, None] for v in (pre.mean, pre.std))
    plain, refined = [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for img_id in ids:
            path = osp.join(voc, 'JPEGImages', f'{img_id}.jpg')
            bgr = mmcv.imread(path)
            scaled = bgr
            for resize in resizes:
                scaled = mmcv.imrescale(scaled, tuple(resize['scale']), interpolation='bilinear')
            image = torch.from_numpy(np.ascontiguousarray(
                scaled[..., ::-1] if pre.bgr_to_rgb else scaled)).permute(2, 0, 1).float()
            with torch.no_grad():
                fused = model.forward_scales(((image - mean) / std)[None])[-1]
                logits = F.interpolate(fused, size=scaled.shape[:2], mode='bilinear',
                                       align_corners=False)
                logits = F.interpolate(logits, size=bgr.shape[:2], mode='bilinear',
                                       align_corners=False)[0]
            probs = logits.softmax(0).numpy()
            crf = dcrf.DenseCRF2D(bgr.shape[1], bgr.shape[0], probs.shape[0])
            crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs)))
            crf.addPairwiseGaussian(sxy=1, compat=3)
            crf.addPairwiseBilateral(sxy=67, srgb=3, compat=4,
                                     rgbim=np.array(Image.open(path).convert('RGB')))
            gt = read_label(osp.join(voc, 'SegmentationClass', f'{img_id}.png'))
            plain.append((logits.argmax(0).numpy(), gt))
            refined.append((np.asarray(crf.inference(10)).reshape(probs.shape).argmax(0), gt))
    finally:
        torch.set_num_threads(threads)
    return dict(mIoU=iou_metric_miou(plain), mIoU_crf=iou_metric_miou(refined))
