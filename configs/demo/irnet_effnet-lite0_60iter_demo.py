# IRNet for the real-photo demo: IRN's recipe on the ImageNet EfficientNet-Lite0 trunk
# (_base_/models/irnet_effnet-lite0.py): the trunk stays frozen at its ImageNet weights and
# statistics, only the class-boundary head (~57k parameters) learns, 60 iterations of batch 8
# on 256 crops of the photos with the relation labels of the classifier's seeds (radius 5).
# SGD lr 0.1, momentum 0.9, weight decay 1e-4 as IRN trains its head; a constant rate (IRN
# decays it, poly 0.9) so that overriding train_cfg.max_iters alone keeps the schedule whole.
# Point train_dataloader.dataset.seed_dir at the seeds' gen_pseudo work dir and
# train_dataloader.dataset.dataset.data_root at the photos (VOCdevkit/VOC2012 layout).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/irnet_effnet-lite0.py',
    '../_base_/datasets/demo_relation_labels.py', '../_base_/schedules/irnet_sgd_60iter_demo.py'
]
model = {{_base_.boundary_generator}}
