"""Classical numpy/OpenCV filters and matting baselines."""

from keras_matting.filters.guided_filter import box_mean, fast_guided_filter, guided_filter

__all__ = ["box_mean", "fast_guided_filter", "guided_filter"]
