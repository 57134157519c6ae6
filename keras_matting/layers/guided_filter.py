"""GuidedFilter: differentiable guided filter (He et al. 2010), gray or colour guide."""

import keras
from keras import ops

from keras_matting.layers.box_filter import BoxFilter


def guided_filter_coefficients(guide, p, radius, epsilon):
    """Window-averaged linear coefficients ``(mean_a, mean_b)`` of the guided filter.

    ``guide`` NHWC with 1 or 3 channels, ``p`` NHWC with P channels. Returns
    ``mean_a`` ``(N, H, W, P, C)`` and ``mean_b`` ``(N, H, W, P)`` such that
    ``q = sum_c mean_a[..., c] I_c + mean_b``. The colour case inverts
    ``Sigma_k + eps U`` per pixel in closed form (adjugate / determinant).
    Both inputs are centred on their per-image means first: the filter is
    invariant to it and the float32 variances lose less precision.
    """
    box = BoxFilter(radius)
    guide = guide - ops.mean(guide, axis=(1, 2), keepdims=True)
    p = p - ops.mean(p, axis=(1, 2), keepdims=True)
    channels = guide.shape[-1]
    p_channels = p.shape[-1]
    if channels not in (1, 3):
        raise ValueError(f"guide must have 1 or 3 channels, got {channels}")
    # Every window mean of the first pass in one box filter over stacked channels, and
    # those of A and B in a second one: two box filters instead of six (fewer ops per
    # pixel at the IGF's 1/4 resolution in TFLite, measured with
    # `keras-matting benchmark --profile`). Splits and unstacks instead of a slice per
    # channel: TFLite's STRIDED_SLICE took 4-6x longer than one SPLIT or UNPACK.
    products = ops.expand_dims(p, -1) * ops.expand_dims(guide, -2)  # (N, H, W, P, C)
    shape = ops.shape(products)
    flat = ops.reshape(products, (shape[0], shape[1], shape[2], p_channels * channels))
    if channels == 1:
        second = [guide * guide]
    else:
        r, g, b = ops.split(guide, 3, axis=-1)
        second = [r * r, r * g, r * b, g * g, g * b, b * b]
    means = box(ops.concatenate([guide, p, flat] + second, axis=-1))
    mean_i, mean_p, mean_ip, second = ops.split(
        means, [channels, channels + p_channels, channels + p_channels + p_channels * channels],
        axis=-1,
    )
    mean_ip = ops.reshape(mean_ip, shape)
    # cov(I_c, p_k): (N, H, W, P, C)
    cov_ip = mean_ip - ops.expand_dims(mean_p, -1) * ops.expand_dims(mean_i, -2)
    if channels == 1:
        var_i = second - mean_i * mean_i
        a = cov_ip / (ops.expand_dims(var_i, -2) + epsilon)
    else:
        mr, mg, mb = ops.unstack(mean_i, axis=-1)
        e_rr, e_rg, e_rb, e_gg, e_gb, e_bb = ops.unstack(second, axis=-1)
        s_rr = e_rr - mr * mr + epsilon
        s_rg = e_rg - mr * mg
        s_rb = e_rb - mr * mb
        s_gg = e_gg - mg * mg + epsilon
        s_gb = e_gb - mg * mb
        s_bb = e_bb - mb * mb + epsilon
        # adjugate of the symmetric 3x3 matrix
        i_rr = s_gg * s_bb - s_gb * s_gb
        i_rg = s_gb * s_rb - s_rg * s_bb
        i_rb = s_rg * s_gb - s_gg * s_rb
        i_gg = s_rr * s_bb - s_rb * s_rb
        i_gb = s_rb * s_rg - s_rr * s_gb
        i_bb = s_rr * s_gg - s_rg * s_rg
        det = s_rr * i_rr + s_rg * i_rg + s_rb * i_rb
        # a = cov_ip . inv / det, one output channel at a time instead of a (3, 3) stack
        # and a BATCH_MATMUL per pixel: fewer ops at 1/4 resolution in TFLite, and each
        # tensor enters one concatenation only (shared inputs of two concatenations get
        # int8 requantisation ops that selective int8 export cannot remove; measured).
        c_r, c_g, c_b = [ops.expand_dims(c, -1) for c in ops.unstack(cov_ip, axis=-1)]
        adj = [[ops.expand_dims(ops.expand_dims(v, -1), -1) for v in row] for row in
               ((i_rr, i_rg, i_rb), (i_rg, i_gg, i_gb), (i_rb, i_gb, i_bb))]
        a = ops.concatenate(
            [c_r * adj[0][k] + c_g * adj[1][k] + c_b * adj[2][k] for k in range(3)], axis=-1)
        a = a / ops.expand_dims(ops.expand_dims(det, -1), -1)  # (N, H, W, P, 3)
    b = mean_p - ops.sum(a * ops.expand_dims(mean_i, -2), axis=-1)
    a_shape = ops.shape(a)
    a_flat = ops.reshape(a, (a_shape[0], a_shape[1], a_shape[2], p_channels * channels))
    mean_a, mean_b = ops.split(box(ops.concatenate([a_flat, b], axis=-1)),
                               [p_channels * channels], axis=-1)
    return ops.reshape(mean_a, a_shape), mean_b


def apply_coefficients(guide, mean_a, mean_b, guide_mean, p_mean):
    """``q = sum_c mean_a_c (I_c - mean(I_c)) + mean_b + mean(p)`` (centred coefficients)."""
    centred = guide - guide_mean
    return ops.sum(mean_a * ops.expand_dims(centred, -2), axis=-1) + mean_b + p_mean


@keras.saving.register_keras_serializable(package="keras_matting")
class GuidedFilter(keras.layers.Layer):
    """Guided filter ``q = mean(a) . I + mean(b)`` as a differentiable Keras layer.

    Inputs ``[guide, p]``: guide NHWC with 1 (gray) or 3 (colour: per-pixel
    3x3 covariance inverse) channels, ``p`` NHWC with any number of channels
    (each filtered independently), same H and W. Window means come from
    :class:`BoxFilter` (cumulative sums, cut and renormalised at the border),
    so the cost does not depend on the radius. Matches
    :func:`keras_matting.filters.guided_filter.guided_filter` (float64 numpy)
    up to float32 precision.

    Args:
        radius: int, window radius r.
        epsilon: float, regularisation eps of ``a``.
        **kwargs: base layer arguments.

    Example:
    >>> image = keras.random.uniform((1, 32, 32, 3))
    >>> mask = keras.ops.cast(image[..., :1] > 0.5, "float32")
    >>> GuidedFilter(radius=4, epsilon=1e-3)([image, mask]).shape
    TensorShape([1, 32, 32, 1])

    Reference:
        He, Sun, Tang, "Guided Image Filtering", ECCV 2010, eq. (14)-(16).
    """

    def __init__(self, radius, epsilon, **kwargs):
        super().__init__(**kwargs)
        self.radius = int(radius)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        guide, p = inputs
        mean_a, mean_b = guided_filter_coefficients(guide, p, self.radius, self.epsilon)
        return apply_coefficients(
            guide,
            mean_a,
            mean_b,
            ops.mean(guide, axis=(1, 2), keepdims=True),
            ops.mean(p, axis=(1, 2), keepdims=True),
        )

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        config = super().get_config()
        config.update({"radius": self.radius, "epsilon": self.epsilon})
        return config
