# CLIP-ES seeds as labels (eval_cam.py, cam_eval_thres=2): background (1 - max CAM)^2, argmax.
refiner = dict(type='BgPowerRefiner', bg_power=2.0)
