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
    mean_i = box(guide)  # (N, H, W, C)
    mean_p = box(p)  # (N, H, W, P)
    # cov(I_c, p_k): (N, H, W, P, C)
    products = ops.expand_dims(p, -1) * ops.expand_dims(guide, -2)
    shape = ops.shape(products)
    flat = ops.reshape(products, (shape[0], shape[1], shape[2], p_channels * channels))
    mean_ip = ops.reshape(box(flat), shape)
    cov_ip = mean_ip - ops.expand_dims(mean_p, -1) * ops.expand_dims(mean_i, -2)
    if channels == 1:
        var_i = box(guide * guide) - mean_i * mean_i
        a = cov_ip / (ops.expand_dims(var_i, -2) + epsilon)
    elif channels == 3:
        r, g, b = guide[..., 0:1], guide[..., 1:2], guide[..., 2:3]
        second = box(ops.concatenate([r * r, r * g, r * b, g * g, g * b, b * b], axis=-1))
        mr, mg, mb = mean_i[..., 0], mean_i[..., 1], mean_i[..., 2]
        s_rr = second[..., 0] - mr * mr + epsilon
        s_rg = second[..., 1] - mr * mg
        s_rb = second[..., 2] - mr * mb
        s_gg = second[..., 3] - mg * mg + epsilon
        s_gb = second[..., 4] - mg * mb
        s_bb = second[..., 5] - mb * mb + epsilon
        # adjugate of the symmetric 3x3 matrix
        i_rr = s_gg * s_bb - s_gb * s_gb
        i_rg = s_gb * s_rb - s_rg * s_bb
        i_rb = s_rg * s_gb - s_gg * s_rb
        i_gg = s_rr * s_bb - s_rb * s_rb
        i_gb = s_rb * s_rg - s_rr * s_gb
        i_bb = s_rr * s_gg - s_rg * s_rg
        det = s_rr * i_rr + s_rg * i_rg + s_rb * i_rb
        inv = ops.stack(
            [
                ops.stack([i_rr, i_rg, i_rb], axis=-1),
                ops.stack([i_rg, i_gg, i_gb], axis=-1),
                ops.stack([i_rb, i_gb, i_bb], axis=-1),
            ],
            axis=-2,
        ) / ops.expand_dims(ops.expand_dims(det, -1), -1)  # (N, H, W, 3, 3)
        a = ops.einsum("nhwpj,nhwji->nhwpi", cov_ip, inv)
    else:
        raise ValueError(f"guide must have 1 or 3 channels, got {channels}")
    b = mean_p - ops.sum(a * ops.expand_dims(mean_i, -2), axis=-1)
    a_shape = ops.shape(a)
    mean_a = ops.reshape(
        box(ops.reshape(a, (a_shape[0], a_shape[1], a_shape[2], p_channels * channels))),
        a_shape,
    )
    mean_b = box(b)
    return mean_a, mean_b


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
