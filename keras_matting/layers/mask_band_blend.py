"""MaskBandBlend: keep the weak mask away from its edge, the coefficients near it."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_matting")
class MaskBandBlend(keras.layers.Layer):
    """Blends guided-linear coefficients ``[A, B]`` into ``[0, M]`` away from the mask's edge.

    A weak mask is wrong only near its edge: the IGF paper makes weak masks by
    dilating and eroding ``alpha > 0.5`` with kernels of at most 30 px (section 4.1),
    and scores only a 20-px band around the mask edge (section 4.2). Away from the
    edge the mask is the answer, and a filter that follows the image there only adds
    defects (holes in dark or patterned interiors, halos on busy backgrounds: measured
    on ``portraits_val``, see ``saved_models/README.md``). With ``w`` a soft indicator
    of the band within ``radius`` pixels of the mask's edge, this layer returns
    ``[w A, w B + (1 - w) M]``: after ``alpha = A . I + B`` the alpha equals the mask
    outside the band and the network's prediction inside it. No weights.

    The band is ``maxpool(M) - minpool(M)`` over ``(2 radius + 1)`` windows (the range
    of the mask around each pixel: 1 where both sides of the edge are within
    ``radius``), softened by a ``(2 ramp + 1)`` average.

    Inputs: ``[coefficients (N, H, W, C + 1), guide (N, H, W, K)]``, both at the
    coefficients' resolution; the guide's last channel is the mask (area-downsampled,
    values in [0, 1]), e.g. the IGF's ``[image, mask]`` average-pooled.
    Output: coefficients of the same shape.

    Args:
        radius: int >= 1, half-width of the band, in pixels of the inputs.
        ramp: int >= 0, half-width of the soft transition at the band's border.
        **kwargs: base layer arguments.

    Example:
    >>> mask = keras.ops.cast(keras.ops.arange(16) >= 8, "float32")
    >>> mask = keras.ops.broadcast_to(keras.ops.reshape(mask, (1, 1, 16, 1)), (1, 4, 16, 1))
    >>> coeffs = keras.ops.ones((1, 4, 16, 4)) * 0.5
    >>> out = MaskBandBlend(radius=2, ramp=0)([coeffs, mask])
    >>> [float(v) for v in keras.ops.convert_to_numpy(out)[0, 0, [0, 7, 15], 3]]
    [0.0, 0.5, 1.0]
    """

    def __init__(self, radius, ramp=0, **kwargs):
        super().__init__(**kwargs)
        self.radius = int(radius)
        self.ramp = int(ramp)
        if self.radius < 1 or self.ramp < 0:
            raise ValueError(f"radius must be >= 1 and ramp >= 0, got {radius}, {ramp}")

    def call(self, inputs):
        coefficients, guide = inputs
        mask = ops.split(guide, [guide.shape[-1] - 1], axis=-1)[-1] if guide.shape[-1] > 1 else guide
        window = 2 * self.radius + 1
        # Separable (a row window, then a column window): the same maximum over the
        # square; a 13x13 MAX_POOL_2D took 2.5 ms at 128x128 in TFLite/XNNPACK, a
        # 1x13 and a 13x1 one a tenth of that (`keras-matting benchmark --profile`).
        high = ops.max_pool(ops.max_pool(mask, (1, window), strides=1, padding="same"),
                            (window, 1), strides=1, padding="same")
        low = -ops.max_pool(ops.max_pool(-mask, (1, window), strides=1, padding="same"),
                            (window, 1), strides=1, padding="same")
        weight = high - low
        if self.ramp:
            weight = ops.average_pool(weight, 2 * self.ramp + 1, strides=1, padding="same")
        coeff_a, coeff_b = ops.split(coefficients, [coefficients.shape[-1] - 1], axis=-1)
        return ops.concatenate(
            [coeff_a * weight, coeff_b * weight + (1.0 - weight) * mask], axis=-1
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"radius": self.radius, "ramp": self.ramp})
        return config
