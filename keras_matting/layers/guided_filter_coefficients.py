"""GuidedFilterCoefficients: the guided filter's [A, B] as one tensor (a prior for the IGF)."""

import keras
from keras import ops

from keras_matting.layers.guided_filter import guided_filter_coefficients


@keras.saving.register_keras_serializable(package="keras_matting")
class GuidedFilterCoefficients(keras.layers.Layer):
    """Window-averaged guided-filter coefficients ``[A_1..A_C, B]`` with ``q = A . I + B``.

    Input: one NHWC tensor ``concat(guide, p)``, the guide's C = 1 or 3 channels then
    the one channel ``p`` to filter (the IGF's ``[image, mask]``). Output
    ``(N, H, W, C + 1)``, the layout of
    :class:`~keras_matting.layers.guided_linear_transform.GuidedLinearTransform`, so
    the guided filter's output is ``GuidedLinearTransform(clip=False)([x, out])``.
    Run on guide and ``p`` area-downsampled by ``s`` (with radius ``r / s``) and applied
    at full resolution, this is the Fast Guided Filter.

    Args:
        radius: int, window radius at the resolution of the inputs.
        epsilon: float, regularisation of ``A``.
        **kwargs: base layer arguments.

    Example:
    >>> image = keras.random.uniform((1, 32, 32, 3))
    >>> mask = keras.ops.cast(image[..., :1] > 0.5, "float32")
    >>> x = keras.ops.concatenate([image, mask], axis=-1)
    >>> GuidedFilterCoefficients(radius=4, epsilon=1e-3)(x).shape
    TensorShape([1, 32, 32, 4])

    Reference:
        He, Sun, Tang, "Guided Image Filtering", ECCV 2010, eq. (14)-(16);
        He and Sun, "Fast Guided Filter", arXiv:1505.00996, 2015.
    """

    def __init__(self, radius, epsilon, **kwargs):
        super().__init__(**kwargs)
        self.radius = int(radius)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        guide, p = ops.split(inputs, [inputs.shape[-1] - 1], axis=-1)
        mean_a, mean_b = guided_filter_coefficients(guide, p, self.radius, self.epsilon)
        coeff_a = ops.squeeze(mean_a, axis=-2)  # one filtered channel
        # The coefficients are centred on the per-image means; uncentre B.
        guide_mean = ops.mean(guide, axis=(1, 2), keepdims=True)
        p_mean = ops.mean(p, axis=(1, 2), keepdims=True)
        coeff_b = mean_b + p_mean - ops.sum(coeff_a * guide_mean, axis=-1, keepdims=True)
        return ops.concatenate([coeff_a, coeff_b], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"radius": self.radius, "epsilon": self.epsilon})
        return config
