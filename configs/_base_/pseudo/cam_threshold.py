# Plain CAM seeds as pseudo labels: background where every CAM is below 0.15 (the threshold
# at which IRN reports its seeds, 48.3 mIoU on VOC12 train), else the strongest class.
refiner = dict(type='ThresholdRefiner', bg_threshold=0.15)
