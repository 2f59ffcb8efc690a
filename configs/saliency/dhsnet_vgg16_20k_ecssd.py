# DHSNet as in dhsnet_vgg16_20k_duts-tr.py (VGG-16 from ImageNet, RCL refinement, 224x224,
# SGD 20k iterations), trained on the 800 ECSSD training ids and validated on the 200 held-out
# ids (configs/_base_/datasets/ecssd_sod.py; data_root data/ECSSD).
_base_ = ['./dhsnet_vgg16_20k_duts-tr.py', '../_base_/datasets/ecssd_sod.py']
train_dataloader = dict(dataset={{_base_.ecssd_train}})
val_dataloader = dict(dataset={{_base_.ecssd_test}})
test_dataloader = val_dataloader
