"""MS-COCO 2014 for WSSS, in the layout ``tools/convert_coco.py`` writes.

The field's protocol (ReCAM's ``mscoco``): the 80 categories are mapped to label
values 1..80 in ascending COCO category-id order, 0 is background, 255 ignore;
training uses the 82,081 train2014 images and evaluation the 40,137 val2014 images
that have at least one label. The masks are painted as ``tools/convert_coco.py``
says (non-crowd annotations in file order, crowd regions left unpainted).
alicranck/coco2voc, which some papers use for the masks, is a different protocol:
it writes the raw category ids 1..90 (not 1..80), paints crowd regions, and draws
small objects on top of large ones; its masks are not interchangeable with these.

:func:`check_coco_instances` checks an instances JSON before anything is converted:
pycocotools keeps the last of two images with one id (their annotations merge into one
mask), takes any 80 category ids in order (so ids that are not COCO's shift every
class), and fails on a malformed entry with a bare ``KeyError``/``TypeError``.
"""
import os.path as osp
from numbers import Integral, Real
from typing import Any, Dict

from wsss_mm.datasets.image_level import ImageLevelDataset
from wsss_mm.datasets.voc import VOC_PALETTE
from wsss_mm.registry import DATASETS

__all__ = ['COCO_CLASSES', 'COCO_SEG_CLASSES', 'COCO_CATEGORY_IDS', 'COCOImageLevelDataset',
           'check_coco_instances']

# the 80 "things" categories in ascending category-id order (1, 2, ..., 90 with gaps)
COCO_CLASSES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat',
    'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack',
    'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball',
    'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket',
    'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
    'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair',
    'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse',
    'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
    'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier',
    'toothbrush')
COCO_SEG_CLASSES = ('background', ) + COCO_CLASSES
#: COCO's category id of each class of COCO_CLASSES (ascending, with gaps)
COCO_CATEGORY_IDS = (*range(1, 12), *range(13, 26), 27, 28, *range(31, 45), *range(46, 66), 67,
                     70, *range(72, 83), *range(84, 91))


@DATASETS.register_module()
class COCOImageLevelDataset(ImageLevelDataset):
    """COCO-2014 images with image-level labels (80 classes; masks with 81 values).

    Default folders follow ``tools/convert_coco.py``: images in ``train2014/`` (set
    ``data_prefix.img_path='val2014'`` for val), masks in ``SegmentationClass/``,
    labels in ``cls_labels.npy`` (``label_source='npy'``, the default) or from the
    masks (``'mask'``). Arguments: see :class:`~wsss_mm.datasets.ImageLevelDataset`.
    """
    METAINFO = dict(classes=COCO_CLASSES, seg_classes=COCO_SEG_CLASSES,
                    label_ids=tuple(range(1, len(COCO_CLASSES) + 1)),
                    palette=[VOC_PALETTE[i * 3:i * 3 + 3] for i in range(256)])
    DEFAULT_PREFIX = dict(img_path='train2014', seg_map_path='SegmentationClass')

    def __init__(self, data_root: str, ann_file: str, label_source: str = 'npy',
                 label_file: str = 'cls_labels.npy', **kwargs) -> None:
        super().__init__(data_root=data_root, ann_file=ann_file, label_source=label_source,
                         label_file=label_file, **kwargs)


def _entry(kind: str, entry: Any) -> str:
    """How an error names a JSON entry: its id (and file name for an image)."""
    if not isinstance(entry, dict):
        return f'{kind} {entry!r}'
    name = f' ({entry["file_name"]!r})' if 'file_name' in entry else ''
    return f'{kind} id={entry.get("id")!r}{name}'


def _require(path: str, kind: str, entry: Any, keys: Dict[str, tuple]) -> None:
    """Refuse an entry that is not a dict with ``keys`` of the given types, naming it."""
    if not isinstance(entry, dict):
        raise ValueError(f'{path}: {_entry(kind, entry)} is not a JSON object')
    for key, types in keys.items():
        if key not in entry:
            raise ValueError(f'{path}: {_entry(kind, entry)} has no {key!r}')
        if not isinstance(entry[key], types) or isinstance(entry[key], bool):
            raise ValueError(f'{path}: {_entry(kind, entry)} has {key}={entry[key]!r}; '
                             f'expected {" or ".join(t.__name__ for t in types)}')


def _check_file_name(path: str, image: dict) -> str:
    """The stem of an image's ``file_name``, refusing anything but a plain file name.

    A name with a folder part (``../../x.jpg``, ``/etc/x.jpg``, ``a/b.jpg``) would
    put its mask outside the mask folder.
    """
    name = image['file_name']
    stem = osp.splitext(name)[0]
    if (not stem or '/' in name or '\\' in name or '\0' in name or stem.startswith('.')
            or osp.isabs(name)):
        raise ValueError(f'{path}: {_entry("image", image)} has file_name {name!r}; '
                         'expected a plain file name (no folders, no leading dot): its mask '
                         'would be written outside the mask folder')
    return stem


def _check_segmentation(path: str, ann: dict, image: dict) -> None:
    """Refuse a segmentation that is neither polygons nor an RLE of the image's size."""
    where = f'{path}: {_entry("annotation", ann)} of {_entry("image", image)}'
    if 'segmentation' not in ann:
        raise ValueError(f'{where} has no segmentation (a box-only annotation cannot be '
                         'painted into a mask)')
    seg = ann['segmentation']
    if isinstance(seg, list):
        if not seg:
            raise ValueError(f'{where} has an empty polygon list')
        for poly in seg:
            # pycocotools reads 2 points as a box, as the converter always did; fewer crash it
            if not (isinstance(poly, list) and len(poly) >= 4 and len(poly) % 2 == 0
                    and all(isinstance(v, Real) and not isinstance(v, bool) for v in poly)):
                raise ValueError(f'{where} has a polygon {str(poly)[:60]}; expected a list of '
                                 'at least 2 x, y number pairs')
    elif isinstance(seg, dict):
        if 'counts' not in seg or 'size' not in seg:
            raise ValueError(f'{where} has an RLE without "counts" and "size"')
        if list(seg['size']) != [image['height'], image['width']]:
            raise ValueError(f'{where} has an RLE of size {seg["size"]}; the image is '
                             f'{image["height"]}x{image["width"]}')
        if not isinstance(seg['counts'], (str, list)):
            raise ValueError(f'{where} has RLE counts of type {type(seg["counts"]).__name__}; '
                             'expected a string or a list')
    else:
        raise ValueError(f'{where} has a segmentation of type {type(seg).__name__}; expected '
                         'a polygon list or an RLE dict')


def check_coco_instances(data: Any, path: str) -> None:
    """Refuse an instances JSON that would convert to wrong masks, naming the entry.

    Checks: ``images``/``annotations``/``categories`` lists; the 80 categories with
    COCO's ids and names (:data:`COCO_CATEGORY_IDS`); unique image ids and file stems,
    plain file names (no folder part: a mask must stay in its folder), positive sizes;
    every annotation with a known image and category and a paintable segmentation.
    """
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object with images, annotations, categories')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise ValueError(f'{path}: {key!r} is missing or not a list')
    for cat in data['categories']:
        _require(path, 'category', cat, dict(id=(Integral, ), name=(str, )))
    got = sorted((c['id'], c['name']) for c in data['categories'])
    want = list(zip(COCO_CATEGORY_IDS, COCO_CLASSES))
    if got != want:
        wrong = [g for g in got if g not in want][:3] or 'none (some are missing)'
        raise ValueError(f'{path}: the categories are not COCO\'s 80 (id, name) pairs '
                         f'(COCO_CATEGORY_IDS): {len(got)} categories, not COCO\'s: {wrong}; '
                         'other ids would shift every class')
    images: Dict[int, dict] = {}
    stems: Dict[str, dict] = {}
    for image in data['images']:
        _require(path, 'image', image, dict(id=(Integral, ), file_name=(str, ),
                                            height=(Integral, ), width=(Integral, )))
        if image['height'] <= 0 or image['width'] <= 0:
            raise ValueError(f'{path}: {_entry("image", image)} has size '
                             f'{image["height"]}x{image["width"]}')
        stem = _check_file_name(path, image)
        for seen, key, what in ((images, image['id'], 'id'), (stems, stem, 'file stem')):
            if key in seen:
                raise ValueError(f'{path}: {_entry("image", image)} repeats the {what} of '
                                 f'{_entry("image", seen[key])}; their masks would merge')
            seen[key] = image
    cat_ids = set(COCO_CATEGORY_IDS)
    for ann in data['annotations']:
        _require(path, 'annotation', ann, dict(id=(Integral, ), image_id=(Integral, ),
                                               category_id=(Integral, )))
        image = images.get(ann['image_id'])
        if image is None:
            raise ValueError(f'{path}: {_entry("annotation", ann)} names image_id '
                             f'{ann["image_id"]}, which is not in "images"')
        if ann['category_id'] not in cat_ids:
            raise ValueError(f'{path}: {_entry("annotation", ann)} of {_entry("image", image)} '
                             f'has the unknown category_id {ann["category_id"]}')
        _check_segmentation(path, ann, image)
