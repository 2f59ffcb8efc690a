# Pseudo labels of Xu et al. on VOC12 train_aug: Grad-CAM of the VGG-16 classifier
# (features.29), DHSNet saliency with erasing, Algorithm 1.
#   python tools/gen_pseudo.py configs/xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py \
#       --classifier-checkpoint work_dirs/cls_vgg16_15e_voc12aug/epoch_15.pth \
#       --work-dir work_dirs/pseudo_voc12aug
_base_ = ['./cls_vgg16_15e_voc12aug.py', '../_base_/pseudo/xu2019_erasing_fusion.py']
