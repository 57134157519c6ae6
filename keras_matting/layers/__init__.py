"""Custom Keras layers of keras_matting (one class per module)."""

from keras_matting.layers.box_filter import BoxFilter
from keras_matting.layers.fast_guided_filter import FastGuidedFilter
from keras_matting.layers.guided_filter import GuidedFilter
from keras_matting.layers.guided_filter_coefficients import GuidedFilterCoefficients
from keras_matting.layers.guided_linear_transform import GuidedLinearTransform
from keras_matting.layers.mask_band_blend import MaskBandBlend

__all__ = [
    "BoxFilter",
    "FastGuidedFilter",
    "GuidedFilter",
    "GuidedFilterCoefficients",
    "GuidedLinearTransform",
    "MaskBandBlend",
]
