# Table 1, row "ASPP + CRF" (58.7): the ASPP model tested with DeepLab's dense CRF.
# The metric reports mIoU without (mIoU) and with the CRF (mIoU_crf) from one pass.
_base_ = './deeplabv2_r101-aspp_8k_voc12aug-pseudo.py'
test_evaluator = dict(
    _delete_=True, type='CRFIoUMetric', iou_metrics=['mIoU'],
    # 'deeplab' (DeepLab-v2's parameters) or 'krahenbuhl2011' (the defaults of [21] in the paper)
    crf=dict(type='DenseCRF', preset='deeplab'),
    nproc=8)
