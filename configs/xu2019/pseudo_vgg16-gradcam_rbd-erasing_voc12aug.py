# Same as the DHSNet config with the weight-free boundary-connectivity detector (RBD):
# runs anywhere, lower saliency quality than a trained DHSNet (see docs/pipeline.md).
_base_ = './pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py'
saliency_generator = dict(detector=dict(_delete_=True, type='RobustBackgroundDetector'))
