# CLIP-ES (Lin et al., CVPR 2023) on voc12aug: the seeds (softmax Grad-CAM),
# labels at background (1 - max)^2.
# Training-free; OpenAI's ViT-B-16.pt is the classifier checkpoint (docs/clip_es.md):
#   python tools/gen_pseudo.py configs/clip_es/pseudo_clip-vit-b16_seeds_voc12aug.py \
#       --classifier-checkpoint checkpoints/clip/ViT-B-16.pt \
#       --work-dir work_dirs/pseudo_clip-vit-b16_seeds_voc12aug
_base_ = [
    '../_base_/datasets/voc12aug_cls.py',
    '../_base_/prompts/clip_es_voc12.py', '../_base_/pseudo/clip_es_seeds.py'
]
