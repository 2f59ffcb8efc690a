# U²-Net-p as in u2netp_20k_duts-tr.py (from scratch, 320x320, Adam 1e-3, 20k iterations),
# trained on the 800 ECSSD training ids and validated on the 200 held-out ids
# (configs/_base_/datasets/ecssd_sod.py; data_root data/ECSSD).
_base_ = ['./u2netp_20k_duts-tr.py', '../_base_/datasets/ecssd_sod.py']
train_dataloader = dict(dataset={{_base_.ecssd_train}})
val_dataloader = dict(dataset={{_base_.ecssd_test}})
test_dataloader = val_dataloader
