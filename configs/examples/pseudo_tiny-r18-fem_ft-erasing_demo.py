# Worked example of docs/extending.md: the CPU demo's pseudo labels with two components that
# live outside the wsss_mm package, in examples/extending/ (importable with the repository root
# on PYTHONPATH): FEM (class-agnostic feature explanation method) instead of Grad-CAM and the
# weight-free frequency-tuned (FT) saliency detector instead of RBD, with the same erasing
# (0.7, 0.8) and Algorithm 1 (0.2, 0.06).
#   PYTHONPATH=. python tools/gen_pseudo.py \
#       configs/examples/pseudo_tiny-r18-fem_ft-erasing_demo.py \
#       --classifier-checkpoint work_dirs/demo/classifier/iter_400.pth \
#       --work-dir work_dirs/demo/pseudo_fem_ft
_base_ = '../demo/pseudo_tiny-r18-gradcam_rbd-erasing_demo.py'
custom_imports = dict(
    imports=['examples.extending.fem', 'examples.extending.frequency_tuned'],
    allow_failed_imports=False)
# only the type changes: target_layer='backbone.layer4' is inherited
cam_generator = dict(type='FEMGenerator')
# _delete_ replaces the base detector's dict instead of merging the new keys into it
saliency_generator = dict(
    detector=dict(_delete_=True, type='FrequencyTunedSaliency', kernel=(1, 4, 6, 4, 1)))
