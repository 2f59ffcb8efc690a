"""MS-COCO 2014 for WSSS, in the layout ``tools/convert_coco.py`` writes.

The field's protocol (ReCAM's ``mscoco``): the 80 categories are mapped to label
values 1..80 in ascending COCO category-id order, 0 is background, 255 ignore;
training uses the 82,081 train2014 images and evaluation the 40,137 val2014 images
that have at least one label. The masks are painted as ``tools/convert_coco.py``
says (non-crowd annotations in file order, crowd regions left unpainted).
alicranck/coco2voc, which some papers use for the masks, is a different protocol:
it writes the raw category ids 1..90 (not 1..80), paints crowd regions, and draws
small objects on top of large ones; its masks are not interchangeable with these.
"""
from wsss_mm.datasets.image_level import ImageLevelDataset
from wsss_mm.datasets.voc import VOC_PALETTE
from wsss_mm.registry import DATASETS

__all__ = ['COCO_CLASSES', 'COCO_SEG_CLASSES', 'COCO_CATEGORY_IDS', 'COCOImageLevelDataset']

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
