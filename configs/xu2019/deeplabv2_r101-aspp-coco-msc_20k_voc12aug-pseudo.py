# Table 1, row "ASPP + COCO + MSC" (60.0): inputs x1, x0.75, x0.5 with shared weights,
# pixel-wise max fusion, the sum of four losses; batch 1, 20k iterations, lr 2.5e-4 poly.
_base_ = [
    '../_base_/models/deeplabv2_r101_aspp.py', '../_base_/datasets/voc12aug_pseudo_seg.py',
    '../_base_/schedules/seg_sgd_poly_20k.py', '../_base_/default_runtime.py'
]
model = dict(
    scales=(1.0, 0.75, 0.5),
    data_preprocessor=dict(mean=[104.008, 116.669, 122.675], std=[1.0, 1.0, 1.0],
                           bgr_to_rgb=False),
    backbone=dict(type='CaffeResNet', style='caffe', init_cfg=None))
load_from = 'checkpoints/deeplabv2_r101_coco_init.pth'
train_dataloader = dict(batch_size=1)
