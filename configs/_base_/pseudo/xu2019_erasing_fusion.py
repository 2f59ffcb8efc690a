# Stages 2-3 of Xu et al. (seeds -> saliency cue -> refiner): DHSNet saliency with iterative
# erasing (0.7 then 0.8, erased pixels <- the mean pixel, i.e. 0 after normalization),
# S = max(S0, S1, S2), then the refiner Algorithm 1 with gamma1=0.2, gamma2=0.06. Combine
# with a classifier config (model + cam_generator) and set the DHSNet weights with
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
# the saliency detector's inputs go through DEFAULT_SALIENCY_PREPROCESSOR
# (wsss_mm/apis/pseudo_label_pipeline.py, ImageNet RGB); set saliency_preprocessor to change it
# saliency_norm: 'none' uses S in [0, 1] as detected, 'max' divides it by its image maximum
refiner = dict(type='SaliencyFusionRefiner', gamma1=0.2, gamma2=0.06, saliency_norm='none')
# the resolution of the CAMs (the paper does not say): None computes them on the original
# image; an int resizes the classifier's input to that long side (e.g. 224, the training
# crop) and the maps back. The Grad-CAM layer is cam_generator.target_layer.
cam_input_size = None
# the split to label is the dataset config's pseudo_dataset (VOC12 train_aug by default)
# bad input: 'raise' stops with a message naming the file, 'skip' reports and goes on
pseudo_on_error = 'raise'
