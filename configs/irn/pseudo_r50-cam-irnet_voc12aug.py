# IRN's pseudo labels on VOC12 train_aug: seeds = multi-scale CAMs of the IRN classifier,
# cue = class boundaries of the trained IRNet, refiner = the random walk.
#   python tools/gen_pseudo.py configs/irn/pseudo_r50-cam-irnet_voc12aug.py --stages cam \
#       --classifier-checkpoint work_dirs/irn_cls/epoch_5.pth --work-dir work_dirs/irn_pseudo
#   python tools/train.py configs/irn/irnet_r50_3e_voc12aug.py --work-dir work_dirs/irnet
#   python tools/gen_pseudo.py configs/irn/pseudo_r50-cam-irnet_voc12aug.py --stages cue,refine \
#       --classifier-checkpoint work_dirs/irn_cls/epoch_5.pth \
#       --cue-checkpoint work_dirs/irnet/epoch_3.pth --work-dir work_dirs/irn_pseudo
_base_ = [
    './cls_r50-gap-os16_5e_voc12aug.py', '../_base_/models/irnet_r50.py',
    '../_base_/pseudo/irn_random_walk.py'
]
