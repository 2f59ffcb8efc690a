# IRNet of IRN (Ahn et al., CVPR 2019; jiwoon-ahn/irn net/resnet50_irn.py, train_irn.py):
# frozen ImageNet ResNet-50 (output stride 16) feature pyramid + the class-boundary branch,
# trained by the affinity loss on pairs within radius 10 of the stride-4 grid, labelled from
# the seed CAMs of configs/irn/cls_r50-gap-os16_5e_voc12aug.py (confident foreground > 0.30,
# confident background < 0.05, each refined by IRN's dense CRF). Train on train_aug: random
# rescale 0.5-1.5, h-flip, random crop 512; batch 32, 3 epochs, lr 0.1, weight decay 1e-4,
# poly decay. Point train_dataloader.dataset.seed_dir at the gen_pseudo work dir of the seeds
# (tools/gen_pseudo.py configs/irn/pseudo_r50-cam-irnet_voc12aug.py --stages cam).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/irnet_r50.py']
crop_size = (512, 512)
# IRN pads crops smaller than 512 with the mean colour (0 after normalization) at a random
# offset (RandomPlacePad); the pairs are IRN's band (the model's AffinityLoss pair_band='irn')
# and IRNet predicts on images padded to 512 (test_pad_size), see _base_/models/irnet_r50.py.
mean_bgr = (103.53, 116.28, 123.675)
# the architecture is the cue network of the IRN pseudo-label config
model = {{_base_.boundary_generator}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRelationLabels', fg_threshold=0.30, bg_threshold=0.05, crf=True),
    # VOC images have a long side of 500: this rescales them by 0.5-1.5 (IRN rescale)
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomPlacePad', size=crop_size, img_pad_val=mean_bgr, seg_pad_val=255),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RelationLabelDataset',
        dataset=dict(
            type='VOCImageLevelDataset',
            data_root='data/VOCdevkit/VOC2012',
            ann_file='ImageSets/SegmentationAug/train_aug.txt'),
        seed_dir='work_dirs/irn_pseudo',
        pipeline=train_pipeline))
# IRN's PolyOptimizer: plain SGD (see the classifier config), the boundary branch at lr 0.1
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=True)
