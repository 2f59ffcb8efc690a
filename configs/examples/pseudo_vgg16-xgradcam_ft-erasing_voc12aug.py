# The two example components of docs/extending.md (examples/extending/) in the paper's setting:
# XGrad-CAM on the VGG-16 classifier of configs/xu2019 (features.29, inherited) and
# frequency-tuned saliency with erasing in place of DHSNet, on VOC12 train_aug.
#   PYTHONPATH=. python tools/gen_pseudo.py \
#       configs/examples/pseudo_vgg16-xgradcam_ft-erasing_voc12aug.py \
#       --classifier-checkpoint work_dirs/cls_vgg16_15e_voc12aug/epoch_15.pth \
#       --work-dir work_dirs/pseudo_voc12aug_xgradcam_ft
_base_ = '../xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py'
custom_imports = dict(
    imports=['examples.extending.xgrad_cam', 'examples.extending.frequency_tuned'],
    allow_failed_imports=False)
cam_generator = dict(type='XGradCAMGenerator')
# without _delete_, DHSNet's init_cfg would be merged in and passed to FrequencyTunedSaliency
saliency_generator = dict(detector=dict(_delete_=True, type='FrequencyTunedSaliency'))
