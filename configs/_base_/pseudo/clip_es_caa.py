# CLIP-ES's class-aware attention affinity: mean attention of the last 8 blocks, 3 rounds of
# column/row normalization, symmetrized, squared; masked by the boxes of the CAM's regions
# above 0.4; labels as the seeds' (background (1 - max)^2).
refiner = dict(type='CAARefiner', box_threshold=0.4, sinkhorn_rounds=3, power=2, bg_power=2.0)
