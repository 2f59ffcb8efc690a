# Table 1, row "ASPP" (56.6 val mIoU in the paper): DeepLab-ASPP ResNet-101 from ImageNet,
# single-scale inputs, trained on the pseudo labels of tools/gen_pseudo.py.
_base_ = [
    '../_base_/models/deeplabv2_r101_aspp.py', '../_base_/datasets/voc12aug_pseudo_seg.py',
    '../_base_/schedules/seg_sgd_step_8k.py', '../_base_/default_runtime.py'
]
