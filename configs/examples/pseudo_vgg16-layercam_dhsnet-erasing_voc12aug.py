# Xu et al.'s pseudo labels with LayerCAM (Jiang et al., TIP 2021) instead of Grad-CAM: the maps
# of the ReLUs after conv3_3, conv4_3 and conv5_3 (one batched backward for all three), each
# min-max scaled, tanh(2 x), fused by the element-wise maximum (the paper's Eq. 9).
#   python tools/gen_pseudo.py configs/examples/pseudo_vgg16-layercam_dhsnet-erasing_voc12aug.py \
#       --classifier-checkpoint work_dirs/cls_vgg16_15e_voc12aug/epoch_15.pth \
#       --work-dir work_dirs/pseudo_voc12aug_layercam
# Another method of the family replaces the dict (fusion / gamma are LayerCAM's only), e.g.
#   --cfg-options cam_generator._delete_=True cam_generator.type=ScoreCAMGenerator \
#       cam_generator.target_layer=backbone.features.29
_base_ = '../xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py'
cam_generator = dict(
    type='LayerCAMGenerator',
    target_layer=['backbone.features.15', 'backbone.features.22', 'backbone.features.29'],
    fusion='max',
    gamma=2.0)
