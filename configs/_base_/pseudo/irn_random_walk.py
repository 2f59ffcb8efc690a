# IRN's random walk (Ahn et al., CVPR 2019, step/make_sem_seg_labels.py), the refiner of
# seeds -> boundary cue -> refiner. It reads the 'boundary' cue: combine with an IRNet
# architecture that defines boundary_generator (e.g. ../models/irnet_r50.py; the weights come
# from tools/train.py, given to gen_pseudo as --cue-checkpoint). The refiner: the seed CAMs at
# IRNet's stride-4 grid, multiplied by (1 - boundary), are propagated by the random walk over
# pairs within radius 5 (affinity = 1 - max boundary on the segment, to the power beta 10,
# 2^8 steps); background where every propagated CAM, normalized by their maximum, is below 0.25.
refiner = dict(type='RandomWalkRefiner', radius=5, beta=10.0, exp_times=8, bg_threshold=0.25,
               stride=4)
