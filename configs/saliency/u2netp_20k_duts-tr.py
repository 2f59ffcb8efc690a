# U²-Net-p (1.1M parameters) trained on DUTS-TR at 320x320 (public u2netp.pth loads as-is:
# saliency_generator.detector=dict(type='U2Net', variant='u2netp', init_cfg=dict(
#     type='Pretrained', checkpoint='checkpoints/u2netp.pth'))).
_base_ = './dhsnet_vgg16_20k_duts-tr.py'
input_size = (320, 320)
model = dict(
    detector=dict(_delete_=True, type='U2Net', variant='u2netp', input_size=320),
    data_preprocessor=dict(size=input_size))
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
    dict(type='LoadSaliencyAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
