# Pseudo labels on COCO-layout data with the demo's components: Grad-CAM of the tiny
# 80-class classifier (layer4), RBD saliency with the paper's erasing, Algorithm 1.
_base_ = ['./cls_tiny-r18-gap_1000iter_coco-demo.py', '../_base_/pseudo/xu2019_erasing_fusion.py']
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone.layer4')
saliency_generator = dict(detector=dict(_delete_=True, type='RobustBackgroundDetector'))
