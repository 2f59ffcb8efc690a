# CLIP ViT-B/16 with CLIP-ES's VOC text side (clip_text.py):
# each class with its synonyms, and the 25 background words. Class order = the dataset's
# (wsss_mm.datasets.VOC_CLASSES).
_base_ = ['../models/clip_vit-b16_zero-shot.py']
model = dict(
    classes=[
        'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
        'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
        'train', 'tvmonitor'
    ],
    class_prompts={
        'aeroplane': 'aeroplane', 'bicycle': 'bicycle', 'bird': 'bird avian', 'boat': 'boat',
        'bottle': 'bottle', 'bus': 'bus', 'car': 'car', 'cat': 'cat', 'chair': 'chair seat',
        'cow': 'cow', 'diningtable': 'diningtable', 'dog': 'dog', 'horse': 'horse',
        'motorbike': 'motorbike', 'person': 'person with clothes,people,human',
        'pottedplant': 'pottedplant', 'sheep': 'sheep', 'sofa': 'sofa', 'train': 'train',
        'tvmonitor': 'tvmonitor screen'
    },
    background_prompts=[
        'ground', 'land', 'grass', 'tree', 'building', 'wall', 'sky', 'lake', 'water', 'river',
        'sea', 'railway', 'railroad', 'keyboard', 'helmet', 'cloud', 'house', 'mountain',
        'ocean', 'road', 'rock', 'street', 'valley', 'bridge', 'sign'
    ])
