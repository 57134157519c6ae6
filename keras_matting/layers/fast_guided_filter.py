"""FastGuidedFilter: differentiable fast guided filter (He & Sun 2015)."""

import keras
from keras import ops

from keras_matting.layers._resize import resize_bilinear
from keras_matting.layers.guided_filter import apply_coefficients, guided_filter_coefficients


def _area_weights(size_in, size_out, dtype):
    """``(size_out, size_in)`` pixel-area weights: cv2 ``INTER_AREA`` down-sampling as a matrix."""
    scale = ops.cast(size_in, dtype) / ops.cast(size_out, dtype)
    out = ops.cast(ops.arange(size_out), dtype)[:, None]
    src = ops.cast(ops.arange(size_in), dtype)[None, :]
    overlap = ops.minimum(src + 1.0, (out + 1.0) * scale) - ops.maximum(src, out * scale)
    return ops.maximum(overlap, 0.0) / scale


def area_downsample(x, size):
    """Area-average NHWC ``x`` to ``size = (h, w)`` (differentiable, dynamic sizes)."""
    shape = ops.shape(x)
    rows = _area_weights(shape[1], size[0], x.dtype)
    cols = _area_weights(shape[2], size[1], x.dtype)
    x = ops.einsum("ih,nhwc->niwc", rows, x)
    return ops.einsum("jw,niwc->nijc", cols, x)


@keras.saving.register_keras_serializable(package="keras_matting")
class FastGuidedFilter(keras.layers.Layer):
    """Fast guided filter: coefficients at ``1/s`` resolution, applied at full resolution.

    Inputs ``[guide, p]`` as :class:`GuidedFilter`. Guide and ``p`` are
    area-averaged (cv2 ``INTER_AREA`` semantics, as a differentiable matrix
    product) to ``round(H / s) x round(W / s)`` (round half to even, as
    Python's ``round``), the guided filter runs there with radius
    ``round(r / s)`` (``r`` in full-resolution pixels), and ``mean(a)``,
    ``mean(b)`` are upsampled bilinearly (half-pixel centres) and applied to
    the full-resolution guide. Matches
    :func:`keras_matting.filters.guided_filter.fast_guided_filter`.

    Args:
        radius: int, window radius in full-resolution pixels.
        epsilon: float, regularisation eps.
        subsample: int, subsampling ratio s.
        **kwargs: base layer arguments.

    Example:
    >>> image = keras.random.uniform((1, 64, 64, 3))
    >>> mask = keras.ops.cast(image[..., :1] > 0.5, "float32")
    >>> FastGuidedFilter(radius=8, epsilon=1e-3, subsample=4)([image, mask]).shape
    TensorShape([1, 64, 64, 1])

    Reference:
        He and Sun, "Fast Guided Filter", arXiv:1505.00996, 2015.
    """

    def __init__(self, radius, epsilon, subsample, **kwargs):
        super().__init__(**kwargs)
        self.radius = int(radius)
        self.epsilon = float(epsilon)
        self.subsample = int(subsample)
        if self.subsample < 1:
            raise ValueError(f"subsample must be >= 1, got {subsample}")

    def call(self, inputs):
        guide, p = inputs
        shape = ops.shape(guide)
        height, width = shape[1], shape[2]
        low = [self._low_size(n) for n in (height, width)]
        guide_low = area_downsample(guide, low)
        p_low = area_downsample(p, low)
        radius_low = max(1, round(self.radius / self.subsample))
        mean_a, mean_b = guided_filter_coefficients(guide_low, p_low, radius_low, self.epsilon)
        a_shape = ops.shape(mean_a)
        flat_a = ops.reshape(mean_a, (a_shape[0], a_shape[1], a_shape[2], -1))
        flat_a = resize_bilinear(flat_a, (height, width))
        mean_b = resize_bilinear(mean_b, (height, width))
        mean_a = ops.reshape(flat_a, (shape[0], height, width, a_shape[3], a_shape[4]))
        return apply_coefficients(
            guide,
            mean_a,
            mean_b,
            ops.mean(guide_low, axis=(1, 2), keepdims=True),
            ops.mean(p_low, axis=(1, 2), keepdims=True),
        )

    def _low_size(self, n):
        """``max(round(n / s), 1)``, round half to even; a Python int for a static ``n``."""
        if isinstance(n, int):
            return max(round(n / self.subsample), 1)
        return ops.maximum(ops.cast(ops.round(ops.cast(n, "float32") / self.subsample), "int32"), 1)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        config = super().get_config()
        config.update(
            {"radius": self.radius, "epsilon": self.epsilon, "subsample": self.subsample}
        )
        return config
