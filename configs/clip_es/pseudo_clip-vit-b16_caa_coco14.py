# CLIP-ES (Lin et al., CVPR 2023) on coco14: the seeds refined by class-aware
# attention affinity (CAA).
# Training-free; OpenAI's ViT-B-16.pt is the classifier checkpoint (docs/clip_es.md):
#   python tools/gen_pseudo.py configs/clip_es/pseudo_clip-vit-b16_caa_coco14.py \
#       --classifier-checkpoint checkpoints/clip/ViT-B-16.pt \
#       --work-dir work_dirs/pseudo_clip-vit-b16_caa_coco14
_base_ = [
    '../_base_/datasets/coco14_cls.py',
    '../_base_/prompts/clip_es_coco14.py', '../_base_/pseudo/clip_es_caa.py'
]
