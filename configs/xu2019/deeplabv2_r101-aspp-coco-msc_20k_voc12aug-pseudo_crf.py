# Table 1, row "ASPP + COCO + MSC + CRF" (62.1 val, 63.3 test): the paper's full model.
_base_ = './deeplabv2_r101-aspp-coco-msc_20k_voc12aug-pseudo.py'
test_evaluator = dict(
    _delete_=True, type='CRFIoUMetric', iou_metrics=['mIoU'],
    # 'deeplab' (DeepLab-v2's parameters) or 'krahenbuhl2011' (the defaults of [21] in the paper)
    crf=dict(type='DenseCRF', preset='deeplab'),
    nproc=8)
