# Pseudo labels with the ImageNet-pretrained EfficientNet-Lite0 classifier: Grad-CAM on the
# last ReLU6 (backbone._head_act), RBD saliency with erasing, Algorithm 1.
_base_ = ['./cls_effnet-lite0-gap_300iter_demo.py', '../_base_/pseudo/xu2019_erasing_fusion.py']
# photos of ~640x480 at half size: the scale the classifier was trained at (shorter side ~320)
cam_generator = dict(type='GradCAMGenerator', target_layer='backbone._head_act', scales=(0.5, ))
saliency_generator = dict(detector=dict(_delete_=True, type='RobustBackgroundDetector'))
pseudo_dataset = dict(data_root={{_base_.data_root}}, ann_file='ImageSets/Segmentation/train.txt')
pseudo_eval_dataset = dict(data_root={{_base_.data_root}})
