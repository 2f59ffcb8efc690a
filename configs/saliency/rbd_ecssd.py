# The weight-free RobustBackgroundDetector (RBD, Zhu et al. 2014) scored on the 200 held-out
# ECSSD ids at 224x224 like the trained detectors (nothing to train: its checkpoint is the
# state dict of the built model, see docs/pipeline.md "Real photos").
_base_ = './dhsnet_vgg16_20k_ecssd.py'
model = dict(detector=dict(_delete_=True, type='RobustBackgroundDetector'))
