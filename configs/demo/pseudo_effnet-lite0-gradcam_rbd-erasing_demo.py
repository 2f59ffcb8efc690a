# Pseudo labels with the ImageNet-pretrained EfficientNet-Lite0 classifier: Grad-CAM on the
# last ReLU6 (backbone._head_act), RBD saliency with erasing, Algorithm 1.
_base_ = ['./cls_effnet-lite0-gap_15e_demo.py', '../_base_/pseudo/xu2019_erasing_fusion.py']
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone._head_act')
# the classifier's scale: a long side of 469 is a short side of 352 on 4:3 photos
cam_input_size = 469
saliency_generator = dict(detector=dict(_delete_=True, type='RobustBackgroundDetector'))
pseudo_dataset = dict(data_root={{_base_.data_root}}, ann_file='ImageSets/Segmentation/train.txt')
pseudo_eval_dataset = dict(data_root={{_base_.data_root}})
