"""Deterministic synthetic data in VOCdevkit, COCO and salient-object layouts.

Used by the tests and the CPU demo, where VOC/SBD/DUTS cannot be downloaded.
Each object class has its own shape and texture; backgrounds are textured
and cluttered with coloured distractors, objects vary in size and overlap, so
neither classification nor saliency is trivial. Nothing here is used when
training on real data.
"""
import io
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from wsss_mm.datasets.coco import COCO_CATEGORY_IDS, COCO_CLASSES
from wsss_mm.datasets.voc import VOC_CLASSES, VOC_PALETTE
from wsss_mm.utils.io import atomic_write_bytes, save_png_atomic

# class name -> (shape, base RGB colour, texture)
DEMO_CLASSES: Dict[str, Tuple[str, Tuple[int, int, int], str]] = {
    'aeroplane': ('triangle', (200, 200, 215), 'noise'),
    'bus': ('square', (230, 180, 20), 'checker'),
    'car': ('ring', (200, 30, 40), 'noise'),
    'cat': ('disk', (235, 130, 40), 'stripes'),
    'dog': ('ellipse', (120, 70, 30), 'dots'),
    'person': ('cross', (40, 90, 220), 'stripes'),
}


def _shape_mask(shape: str, size: int, yy: np.ndarray, xx: np.ndarray, cy: float, cx: float,
                angle: float) -> np.ndarray:
    """Boolean mask of one object shape centred at (cy, cx) with half-size ``size``."""
    dy, dx = yy - cy, xx - cx
    cos, sin = np.cos(angle), np.sin(angle)
    u, v = (cos * dx + sin * dy) / size, (-sin * dx + cos * dy) / size
    if shape == 'disk':
        return u**2 + v**2 <= 1
    if shape == 'ellipse':
        return (u / 1.0)**2 + (v / 0.55)**2 <= 1
    if shape == 'square':
        return (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)
    if shape == 'ring':
        r2 = u**2 + v**2
        return (r2 <= 1) & (r2 >= 0.3)
    if shape == 'cross':
        return ((np.abs(u) <= 0.3) & (np.abs(v) <= 1)) | ((np.abs(v) <= 0.3) & (np.abs(u) <= 1))
    if shape == 'triangle':
        return (v <= 0.7) & (v >= -1 + 2 * np.abs(u) * 0.85 - 0.3) & (np.abs(u) <= 1)
    raise ValueError(f'unknown shape {shape!r}')


def _texture(kind: str, rng: np.random.Generator, h: int, w: int, yy: np.ndarray,
             xx: np.ndarray) -> np.ndarray:
    """Multiplicative texture in [0.55, 1.15] of shape [H, W]."""
    period = rng.uniform(3, 6)
    if kind == 'stripes':
        base = 0.85 + 0.3 * (np.sin((xx + yy * rng.uniform(-1, 1)) * 2 * np.pi / period) > 0)
    elif kind == 'checker':
        base = 0.7 + 0.4 * (((xx // period).astype(int) + (yy // period).astype(int)) % 2)
    elif kind == 'dots':
        base = 1.1 - 0.5 * ((np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period))
                            > 0.6)
    else:
        base = np.full((h, w), 0.95)
    return base + rng.normal(0, 0.05, (h, w))


def _background(rng: np.random.Generator, h: int, w: int, yy: np.ndarray,
                xx: np.ndarray) -> np.ndarray:
    """Low-saturation smooth gradient + texture + clutter (lines and colour blobs)."""
    tone = rng.uniform(60, 170, size=3)
    tone = tone.mean() + 0.35 * (tone - tone.mean())
    grad = (xx / w - 0.5) * rng.uniform(-60, 60) + (yy / h - 0.5) * rng.uniform(-60, 60)
    img = tone[None, None, :] + grad[..., None]
    img += 14 * np.sin(xx[..., None] / rng.uniform(2, 8) + yy[..., None] / rng.uniform(2, 8))
    img += rng.normal(0, 10, (h, w, 3))
    for _ in range(rng.integers(3, 7)):  # clutter lines
        angle, offset = rng.uniform(0, np.pi), rng.uniform(-w / 2, w / 2)
        dist = np.abs(np.cos(angle) * (xx - w / 2) + np.sin(angle) * (yy - h / 2) - offset)
        img[dist < rng.uniform(0.8, 2.0)] = rng.uniform(30, 220, size=3)
    for _ in range(rng.integers(2, 5)):  # distractor blobs in arbitrary colours
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(2, 0.08 * min(h, w) + 2)
        img[(yy - cy)**2 + (xx - cx)**2 <= r * r] = rng.uniform(30, 230, size=3)
    return img


def _render(rng: np.random.Generator, size: Tuple[int, int], classes: Sequence[str],
            max_objects: int) -> Tuple[np.ndarray, np.ndarray, List[str], list]:
    """Render one image: returns (RGB uint8, class mask with VOC ids, visible class names,
    [(name, full object mask)] in painting order; later objects occlude earlier ones)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = _background(rng, h, w, yy, xx)
    mask = np.zeros((h, w), np.uint8)
    num = int(rng.integers(1, max_objects + 1))
    names = [classes[int(i)] for i in rng.integers(0, len(classes), size=num)]
    instances = []
    for name in names:
        shape, colour, texture = DEMO_CLASSES[name]
        half = rng.uniform(0.12, 0.3) * min(h, w)
        cy, cx = rng.uniform(half * 0.6, h - half * 0.6), rng.uniform(half * 0.6, w - half * 0.6)
        obj = _shape_mask(shape, half, yy, xx, cy, cx, rng.uniform(-0.4, 0.4))
        col = np.clip(np.asarray(colour) + rng.normal(0, 18, 3), 0, 255)
        tex = _texture(texture, rng, h, w, yy, xx)
        img[obj] = col[None, :] * tex[obj][:, None]
        mask[obj] = VOC_CLASSES.index(name) + 1
        instances.append((name, obj))
    present = sorted({VOC_CLASSES[i - 1] for i in np.unique(mask) if i > 0})
    return np.clip(img, 0, 255).astype(np.uint8), mask, present, instances


def _jpeg_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format='JPEG', quality=95)
    return buf.getvalue()


def _annotation_xml(img_id: str, size: Tuple[int, int], names: Sequence[str]) -> bytes:
    objects = ''.join(f'<object><name>{n}</name><difficult>0</difficult></object>'
                      for n in names)
    return (f'<annotation><folder>VOC2012</folder><filename>{img_id}.jpg</filename>'
            f'<size><width>{size[1]}</width><height>{size[0]}</height><depth>3</depth></size>'
            f'{objects}</annotation>').encode('utf-8')


def make_synthetic_voc(root: str,
                       num_train: int = 40,
                       num_val: int = 16,
                       size: Tuple[int, int] = (96, 128),
                       classes: Sequence[str] = tuple(DEMO_CLASSES),
                       max_objects: int = 3,
                       seed: int = 0) -> str:
    """Write a VOCdevkit-style WSSS set under ``root`` and return ``root/VOCdevkit/VOC2012``.

    Layout: JPEGImages, Annotations (image-level labels), SegmentationClass and
    SegmentationClassAug (palette PNGs, evaluation only), ImageSets/Segmentation
    {train,val,trainval}.txt and ImageSets/SegmentationAug/{train_aug,val}.txt.
    Deterministic for a given seed; images without any object are never written.
    """
    voc = osp.join(root, 'VOCdevkit', 'VOC2012')
    rng = np.random.default_rng(seed)
    splits: Dict[str, List[str]] = {'train': [], 'val': []}
    for split, count in (('train', num_train), ('val', num_val)):
        for index in range(count):
            img_id = f'{split}_{index:05d}'
            img, mask, names, _ = _render(rng, size, classes, max_objects)
            while not names:
                img, mask, names, _ = _render(rng, size, classes, max_objects)
            atomic_write_bytes(osp.join(voc, 'JPEGImages', img_id + '.jpg'), _jpeg_bytes(img))
            atomic_write_bytes(osp.join(voc, 'Annotations', img_id + '.xml'),
                               _annotation_xml(img_id, size, names))
            for folder in ('SegmentationClass', 'SegmentationClassAug'):
                save_png_atomic(osp.join(voc, folder, img_id + '.png'), mask, VOC_PALETTE)
            splits[split].append(img_id)
    lists = {
        'Segmentation/train.txt': splits['train'],
        'Segmentation/val.txt': splits['val'],
        'Segmentation/trainval.txt': splits['train'] + splits['val'],
        'SegmentationAug/train_aug.txt': splits['train'],
        'SegmentationAug/val.txt': splits['val'],
    }
    for name, ids in lists.items():
        atomic_write_bytes(osp.join(voc, 'ImageSets', name), ('\n'.join(ids) + '\n').encode())
    return voc


def make_synthetic_sod(root: str,
                       num_images: int = 40,
                       size: Tuple[int, int] = (96, 128),
                       max_objects: int = 2,
                       seed: int = 1,
                       split: str = 'TR') -> str:
    """Write a class-agnostic salient-object set in DUTS layout; returns ``root``.

    ``DUTS-<split>-Image/*.jpg`` and ``DUTS-<split>-Mask/*.png`` (0 background, 255
    object), with images drawn independently of :func:`make_synthetic_voc` (use
    another seed). ``split`` is ``'TR'`` (training) or ``'TE'`` (validation).
    """
    rng = np.random.default_rng(seed)
    for index in range(num_images):
        img, mask, _, _ = _render(rng, size, tuple(DEMO_CLASSES), max_objects)
        name = f'sod_{split.lower()}_{index:05d}'
        atomic_write_bytes(osp.join(root, f'DUTS-{split}-Image', name + '.jpg'),
                           _jpeg_bytes(img))
        save_png_atomic(osp.join(root, f'DUTS-{split}-Mask', name + '.png'),
                        ((mask > 0) * 255).astype(np.uint8))
    return root


# the demo's shapes as COCO categories
COCO_DEMO_NAMES = {'aeroplane': 'airplane', 'bus': 'bus', 'car': 'car', 'cat': 'cat',
                   'dog': 'dog', 'person': 'person'}


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of a binary mask: column-major run lengths, zeros first."""
    flat = mask.T.reshape(-1).astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0] + counts
    return dict(size=[int(mask.shape[0]), int(mask.shape[1])], counts=counts)


def _polygons(mask: np.ndarray) -> List[List[float]]:
    """Outer contours of a binary mask as COCO polygons ``[x0, y0, x1, y1, ...]``."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]


def make_synthetic_coco(root: str,
                        split: str = 'train2014',
                        num_images: int = 12,
                        size: Tuple[int, int] = (64, 80),
                        max_objects: int = 3,
                        seed: int = 0) -> str:
    """Write a COCO-2014-style split (images + instances JSON); returns the JSON path.

    ``root/<split>/COCO_<split>_<12-digit id>.jpg`` and
    ``root/annotations/instances_<split>.json`` with all 80 categories under COCO's
    non-contiguous ids. Objects are the demo's shapes (as airplane, bus, car, cat, dog,
    person), annotated in painting order with their full (overlapping) masks,
    alternately as polygons and uncompressed RLE; every third image also carries a
    crowd region, and the last image has no annotation.
    """
    category = dict(zip(COCO_CLASSES, COCO_CATEGORY_IDS))
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for index in range(num_images):
        image_id = index + 1
        file_name = f'COCO_{split}_{image_id:012d}.jpg'
        img, _, names, instances = _render(rng, size, tuple(DEMO_CLASSES), max_objects)
        atomic_write_bytes(osp.join(root, split, file_name), _jpeg_bytes(img))
        images.append(dict(id=image_id, file_name=file_name, height=size[0], width=size[1]))
        if index == num_images - 1:
            continue  # an image without annotations
        for name, obj in instances:
            seg = _polygons(obj) if len(anns) % 2 == 0 else _uncompressed_rle(obj)
            ys, xs = np.nonzero(obj)
            anns.append(dict(id=len(anns) + 1, image_id=image_id, iscrowd=0, segmentation=seg,
                             category_id=category[COCO_DEMO_NAMES[name]],
                             area=float(obj.sum()),
                             bbox=[float(xs.min()), float(ys.min()),
                                   float(xs.max() - xs.min() + 1),
                                   float(ys.max() - ys.min() + 1)]))
        if index % 3 == 0:
            crowd = np.zeros(size, bool)
            crowd[:size[0] // 4, size[1] // 2:] = True
            anns.append(dict(id=len(anns) + 1, image_id=image_id, iscrowd=1,
                             segmentation=_uncompressed_rle(crowd),
                             category_id=category['person'], area=float(crowd.sum()),
                             bbox=[float(size[1] // 2), 0.0, float(size[1] - size[1] // 2),
                                   float(size[0] // 4)]))
    categories = [dict(id=i, name=n, supercategory='thing')
                  for n, i in zip(COCO_CLASSES, COCO_CATEGORY_IDS)]
    path = osp.join(root, 'annotations', f'instances_{split}.json')
    atomic_write_bytes(path, json.dumps(dict(images=images, annotations=anns,
                                             categories=categories)).encode('utf-8'))
    return path
