# CLIP ViT-B/16 as a training-free multi-label classifier (CLIP-ES, Lin et al., CVPR 2023):
# logits = exp(logit_scale) * cos(image feature, prompt embedding) over the dataset's classes
# then the background words (set by a configs/_base_/prompts/ file). Weights: OpenAI's
# ViT-B-16.pt, given to tools/gen_pseudo.py as --classifier-checkpoint (the architecture is
# read from its shapes). Images keep their size, rounded up to a multiple of 16 (bicubic).
data_preprocessor = dict(
    type='ImgDataPreprocessor',
    # CLIP's RGB statistics (0.48145466, 0.4578275, 0.40821073) / (0.26862954, 0.26130258,
    # 0.27577711) on 0..255
    mean=[122.770938, 116.746013, 104.093736],
    std=[68.500533, 66.632158, 70.323163],
    bgr_to_rgb=True)
model = dict(
    type='CLIPZeroShotClassifier',
    data_preprocessor=data_preprocessor,
    template='a clean origami {}.',
    classes=[],
    class_prompts={},
    background_prompts=[])
# Softmax Grad-CAM on the last block's ln_1 tokens; the same forward keeps the attention
# affinity (mean of the last 8 blocks' head-averaged attention) for CAA.
cam_generator = dict(type='ClipESGradCAMGenerator', affinity_blocks=8)
