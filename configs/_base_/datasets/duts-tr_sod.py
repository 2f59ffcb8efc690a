# Salient-object data: DUTS-TR for training, DUTS-TE for validation (images + binary masks).
# MSRA-B (images and masks in one folder): dataset=dict(img_dir='.', mask_dir='.').
data_root = 'data/DUTS'
input_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyAnnotations'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='LoadSaliencyAnnotations'),  # after Resize: the mask stays at full size
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SalientObjectDataset',
        data_root=data_root + '/DUTS-TR',
        img_dir='DUTS-TR-Image',
        mask_dir='DUTS-TR-Mask',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SalientObjectDataset',
        data_root=data_root + '/DUTS-TE',
        img_dir='DUTS-TE-Image',
        mask_dir='DUTS-TE-Mask',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='SaliencyMetric')
test_evaluator = val_evaluator
