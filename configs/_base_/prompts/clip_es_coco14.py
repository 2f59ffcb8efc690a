# CLIP ViT-B/16 with CLIP-ES's COCO text side (clip_text.py new_class_names_coco, retyped as it is,
# e.g. 'sknowboard'), keyed by this toolbox's COCO class names (wsss_mm.datasets.COCO_CLASSES,
# same order as CLIP-ES's), and its 23 background words.
_base_ = ['../models/clip_vit-b16_zero-shot.py']
model = dict(
    classes=[
        'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
        'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat',
        'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack',
        'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
        'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
        'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl',
        'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza',
        'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet',
        'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
        'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear',
        'hair drier', 'toothbrush'
    ],
    class_prompts={
        'person': 'person with clothes,people,human', 'bicycle': 'bicycle', 'car': 'car',
        'motorcycle': 'motorbike', 'airplane': 'aeroplane', 'bus': 'bus', 'train': 'train',
        'truck': 'truck', 'boat': 'boat', 'traffic light': 'traffic light',
        'fire hydrant': 'fire hydrant', 'stop sign': 'stop sign',
        'parking meter': 'parking meter', 'bench': 'bench', 'bird': 'bird avian', 'cat': 'cat',
        'dog': 'dog', 'horse': 'horse', 'sheep': 'sheep', 'cow': 'cow', 'elephant': 'elephant',
        'bear': 'bear', 'zebra': 'zebra', 'giraffe': 'giraffe', 'backpack': 'backpack,bag',
        'umbrella': 'umbrella,parasol', 'handbag': 'handbag,purse', 'tie': 'necktie',
        'suitcase': 'suitcase', 'frisbee': 'frisbee', 'skis': 'skis', 'snowboard': 'sknowboard',
        'sports ball': 'sports ball', 'kite': 'kite', 'baseball bat': 'baseball bat',
        'baseball glove': 'glove', 'skateboard': 'skateboard', 'surfboard': 'surfboard',
        'tennis racket': 'tennis racket', 'bottle': 'bottle', 'wine glass': 'wine glass',
        'cup': 'cup', 'fork': 'fork', 'knife': 'knife', 'spoon': 'dessertspoon', 'bowl': 'bowl',
        'banana': 'banana', 'apple': 'apple', 'sandwich': 'sandwich', 'orange': 'orange',
        'broccoli': 'broccoli', 'carrot': 'carrot', 'hot dog': 'hot dog', 'pizza': 'pizza',
        'donut': 'donut', 'cake': 'cake', 'chair': 'chair seat', 'couch': 'sofa',
        'potted plant': 'pottedplant', 'bed': 'bed', 'dining table': 'diningtable',
        'toilet': 'toilet', 'tv': 'tvmonitor screen', 'laptop': 'laptop', 'mouse': 'mouse',
        'remote': 'remote control', 'keyboard': 'keyboard', 'cell phone': 'cell phone',
        'microwave': 'microwave', 'oven': 'oven', 'toaster': 'toaster', 'sink': 'sink',
        'refrigerator': 'refrigerator', 'book': 'book', 'clock': 'clock', 'vase': 'vase',
        'scissors': 'scissors', 'teddy bear': 'teddy bear', 'hair drier': 'hairdrier,blowdrier',
        'toothbrush': 'toothbrush'
    },
    background_prompts=[
        'ground', 'land', 'grass', 'tree', 'building', 'wall', 'sky', 'lake', 'water', 'river',
        'sea', 'railway', 'railroad', 'helmet', 'cloud', 'house', 'mountain', 'ocean', 'road',
        'rock', 'street', 'valley', 'bridge'
    ])
