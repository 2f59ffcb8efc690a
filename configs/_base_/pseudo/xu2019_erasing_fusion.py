# Stages 2-3 of Xu et al.: DHSNet saliency with iterative erasing (0.7 then 0.8, erased
# pixels <- the mean pixel, i.e. 0 after normalization), S = max(S0, S1, S2), then
# Algorithm 1 with gamma1=0.2, gamma2=0.06. Combine with a classifier config (model +
# cam_generator) and set the DHSNet weights with
#   --cfg-options saliency_generator.detector.init_cfg.checkpoint=/path/dhsnet.pth
saliency_generator = dict(
    type='ErasingSaliencyGenerator',
    detector=dict(
        type='DHSNet',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dhsnet_duts-tr.pth')),
    thresholds=(0.7, 0.8),
    # "the average pixel value": 'value' with fill_value=0.0 is the dataset mean after
    # normalization; 'image_mean' fills with each image's own mean colour
    fill_mode='value',
    fill_value=0.0)
# RGB normalization of the saliency detector input
saliency_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
# saliency_norm: 'none' uses S in [0, 1] as detected, 'max' divides it by its image maximum
fuser = dict(type='PseudoLabelFuser', gamma1=0.2, gamma2=0.06, saliency_norm='none')
# the split to label (image-level labels from Annotations/*.xml)
pseudo_data = dict(
    data_root='data/VOCdevkit/VOC2012',
    ann_file='ImageSets/SegmentationAug/train_aug.txt',
    label_source='xml')
# bad input: 'raise' stops with a message naming the file, 'skip' reports and goes on
pseudo_on_error = 'raise'
