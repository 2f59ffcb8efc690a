# Pseudo labels for the CPU demo: Grad-CAM of the tiny classifier (layer4), the weight-free
# RBD saliency detector with the paper's erasing (0.7, 0.8), Algorithm 1 (0.2, 0.06).
_base_ = ['./cls_tiny-r18-gap_1000iter_demo.py', '../_base_/pseudo/xu2019_erasing_fusion.py']
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone.layer4')
saliency_generator = dict(detector=dict(_delete_=True, type='RobustBackgroundDetector'))
pseudo_dataset = dict(data_root={{_base_.data_root}}, ann_file='ImageSets/Segmentation/train.txt')
pseudo_eval_dataset = dict(data_root={{_base_.data_root}})
