# IRNet for the CPU demo: a tiny ResNet-18 trained from scratch with its boundary head
# (no pretrained weights: freeze_backbone=False), 60 iterations of batch 8 on the relation
# labels of the demo seeds (confident fg > 0.30, bg < 0.05, IRN's CRF), radius 5.
# Point train_dataloader.dataset.seed_dir at the seeds' gen_pseudo work dir.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/irnet_tiny-r18.py',
    '../_base_/datasets/demo_relation_labels.py', '../_base_/schedules/irnet_sgd_60iter_demo.py'
]
model = {{_base_.boundary_generator}}
