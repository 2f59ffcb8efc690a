# ECSSD (Yan et al., CVPR 2013): 1,000 photos with salient-object masks, images/*.jpg +
# masks/*.png. A fixed split, seeded shuffle of the ids 0001-1000 (random.Random(2013)),
# sorted: ecssd_splits/train.txt (800 ids) to train on, ecssd_splits/test.txt (200 ids) held
# out. Pipelines come from the config that uses these datasets; inherit with
#   train_dataloader = dict(dataset={{_base_.ecssd_train}})
#   val_dataloader = dict(dataset={{_base_.ecssd_test}})
ecssd_root = 'data/ECSSD'
ecssd_train = dict(
    type='SalientObjectDataset',
    data_root=ecssd_root,
    img_dir='images',
    mask_dir='masks',
    ann_file='{{ fileDirname }}/ecssd_splits/train.txt')
ecssd_test = dict(
    type='SalientObjectDataset',
    data_root=ecssd_root,
    img_dir='images',
    mask_dir='masks',
    ann_file='{{ fileDirname }}/ecssd_splits/test.txt')
