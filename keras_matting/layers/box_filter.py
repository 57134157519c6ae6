"""BoxFilter: window means/sums by cumulative sums, cost independent of the radius."""

import keras
from keras import ops


def _window_sum(x, radius, axis):
    """Sums over ``[i - r, i + r]`` along ``axis``, cut at the border, and the window lengths."""
    length = ops.shape(x)[axis]
    csum = ops.cumsum(x, axis=axis)
    zero = ops.zeros_like(ops.take(x, ops.convert_to_tensor([0]), axis=axis))
    csum = ops.concatenate([zero, csum], axis=axis)  # csum[k] = sum of x[:k]
    index = ops.arange(length)
    upper = ops.minimum(index + radius + 1, length)
    lower = ops.maximum(index - radius, 0)
    sums = ops.take(csum, upper, axis=axis) - ops.take(csum, lower, axis=axis)
    return sums, upper - lower


@keras.saving.register_keras_serializable(package="keras_matting")
class BoxFilter(keras.layers.Layer):
    """Box filter over ``(2r+1) x (2r+1)`` windows of an NHWC tensor, per channel.

    Windows are cut at the image border; with ``normalize=True`` (default) the
    output is the mean over the pixels inside the image, i.e. the
    ``boxfilter(I) ./ boxfilter(ones)`` of He et al.'s MATLAB code, as
    :func:`keras_matting.filters.guided_filter.box_mean`. Separable cumulative
    sums (one along H, one along W) make the cost independent of ``r``;
    differentiable, dynamic H and W.

    Args:
        radius: int, window radius r.
        normalize: bool, mean (True) or sum (False) over the window.
        **kwargs: base layer arguments.

    Example:
    >>> x = keras.ops.ones((1, 5, 5, 1))
    >>> keras.ops.convert_to_numpy(BoxFilter(1, normalize=False)(x))[0, :2, :2, 0]
    array([[4., 6.],
           [6., 9.]], dtype=float32)

    Reference:
        He, Sun, Tang, "Guided Image Filtering", ECCV 2010 (O(N) box filter).
    """

    def __init__(self, radius, normalize=True, **kwargs):
        super().__init__(**kwargs)
        self.radius = int(radius)
        self.normalize = bool(normalize)
        if self.radius < 0:
            raise ValueError(f"radius must be >= 0, got {radius}")

    def call(self, inputs):
        sums, rows = _window_sum(inputs, self.radius, axis=1)
        sums, cols = _window_sum(sums, self.radius, axis=2)
        if not self.normalize:
            return sums
        # expand_dims, not [None, ...]: a new axis by slicing is a StridedSlice that
        # the TFLite converter cannot lower to a builtin at dynamic sizes (measured).
        counts = ops.cast(ops.expand_dims(rows, 1) * ops.expand_dims(cols, 0), sums.dtype)
        return sums / ops.expand_dims(ops.expand_dims(counts, 0), -1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"radius": self.radius, "normalize": self.normalize})
        return config
