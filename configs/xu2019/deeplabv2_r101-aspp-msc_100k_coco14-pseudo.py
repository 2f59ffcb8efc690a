# Stage 4 on COCO-2014: MSC DeepLab-v2 (x1, x0.75, x0.5, max fusion, four losses) on the
# train2014 pseudo labels, 81 classes, ImageNet init (the COCO-pretrained DeepLab init of the
# VOC configs was trained on COCO masks and must not be used here), evaluated on val2014.
_base_ = [
    '../_base_/models/deeplabv2_r101_aspp.py', '../_base_/datasets/coco14_pseudo_seg.py',
    '../_base_/schedules/seg_sgd_poly_100k.py', '../_base_/default_runtime.py'
]
model = dict(scales=(1.0, 0.75, 0.5), decode_head=dict(num_classes=81))
