# IRNet training data of the CPU demos: the train split's images with IRN's relation labels
# from the CAM seeds of a gen_pseudo work dir (confident fg > 0.30, bg < 0.05, IRN's CRF),
# batch 8. Point train_dataloader.dataset.seed_dir at the seeds' work dir and
# train_dataloader.dataset.dataset.data_root at the data.
data_root = 'work_dirs/demo/data/VOCdevkit/VOC2012'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRelationLabels', fg_threshold=0.30, bg_threshold=0.05, crf=True),
    # the generated 96 x 128 images are kept whole; photos are cropped to 256 for CPU speed
    dict(type='RandomCrop', crop_size=(256, 256)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='RelationLabelDataset',
        dataset=dict(type='VOCImageLevelDataset', data_root=data_root,
                     ann_file='ImageSets/Segmentation/train.txt'),
        seed_dir='work_dirs/demo/irn_pseudo',
        pipeline=train_pipeline))
