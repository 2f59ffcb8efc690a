# Pseudo labels of Xu et al. on COCO-2014 train: Grad-CAM of the COCO VGG-16 classifier
# (features.29), DHSNet saliency with erasing, Algorithm 1 (label values 0..80).
#   python tools/gen_pseudo.py configs/xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_coco14.py \
#       --classifier-checkpoint work_dirs/cls_vgg16_15e_coco14/epoch_15.pth \
#       --work-dir work_dirs/pseudo_coco14
_base_ = ['./cls_vgg16_15e_coco14.py', '../_base_/pseudo/xu2019_erasing_fusion.py']
