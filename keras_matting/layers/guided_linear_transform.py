"""The per-pixel linear model of the (inductive) guided filter: q = up(A) . I + up(B)."""

import keras
from keras import ops

from keras_matting.layers._resize import resize_bilinear


@keras.saving.register_keras_serializable(package="keras_matting")
class GuidedLinearTransform(keras.layers.Layer):
    """Upsample linear coefficients bilinearly and apply them: ``q = up(A) . I + up(B)``.

    Eq. (3) of the Inductive Guided Filter with the Fast Guided Filter's
    low-resolution coefficients: ``A`` (C channels) and ``B`` (1 channel),
    predicted at low resolution (1/4 in the IGF), are resized bilinearly
    (half-pixel centres, as ``keras.layers.UpSampling2D``) to the guide's
    size and applied per pixel, ``q_i = sum_c A_ci I_ci + B_i``.

    Inputs ``[guide, coefficients]``: ``guide`` NHWC whose first C channels
    are the image (further channels, e.g. the IGF mask, are ignored);
    ``coefficients`` ``(N, h, w, C + 1)`` = ``[A_1..A_C, B]``.

    Implementation (measured with TFLite/XNNPACK on a 2-core CPU): ``A`` is
    padded with zero coefficients for the extra guide channels at low
    resolution, so the full-resolution work is two RESIZE_BILINEAR, one MUL,
    a 1x1 CONV_2D with a constant all-ones kernel (the channel sum), one ADD
    and the clip, all XNNPACK ops; slicing the guide and a SUM reduction
    were 2x slower.

    Args:
        clip: bool, clip the output to ``[0, 1]`` (an alpha matte). In training the
            clip is straight-through (its gradient is the identity's) so that pixels
            outside ``[0, 1]`` keep receiving gradients.
        **kwargs: base layer arguments.

    Example:
    >>> guide = keras.random.uniform((1, 16, 16, 4))  # [R, G, B, mask]
    >>> coefficients = keras.random.uniform((1, 4, 4, 4))  # [A_R, A_G, A_B, B]
    >>> GuidedLinearTransform()([guide, coefficients]).shape
    TensorShape([1, 16, 16, 1])

    Reference:
        Li et al., "Inductive Guided Filter", 2019, eq. (3) and Figure 2;
        He and Sun, "Fast Guided Filter", arXiv:1505.00996, 2015.
    """

    def __init__(self, clip=True, **kwargs):
        super().__init__(**kwargs)
        self.clip = bool(clip)

    def build(self, input_shape):
        guide_shape, coeff_shape = input_shape
        if coeff_shape[-1] is None or coeff_shape[-1] < 2:
            raise ValueError(f"coefficients need C + 1 >= 2 channels [A, B], got {coeff_shape}")
        if guide_shape[-1] is None or guide_shape[-1] < coeff_shape[-1] - 1:
            raise ValueError(
                f"guide needs at least C = {coeff_shape[-1] - 1} channels, got {guide_shape}"
            )
        self._image_channels = int(coeff_shape[-1]) - 1
        self._extra_channels = int(guide_shape[-1]) - self._image_channels
        self.built = True

    def call(self, inputs, training=None):
        guide, coeffs = inputs
        size = ops.shape(guide)[1:3]
        if self._extra_channels:
            # A and B through one resize: up([A, B, 0..]) * [I, M, ..] summed with weights
            # [1.., 0..] is up(A) . I, and B is the resized map's channel C, picked by a
            # second 1x1 convolution. Measured in TFLite/XNNPACK at 512x512 (the IGF,
            # `keras-matting benchmark --profile`): a separate 1-channel resize of B cost
            # more than the 4-channel one, and building [I, 1] from the guide (MUL + ADD
            # by constants) more than both convolutions.
            if self._extra_channels > 1:
                coeffs = ops.pad(coeffs, [[0, 0], [0, 0], [0, 0], [0, self._extra_channels - 1]])
            up = resize_bilinear(coeffs, size)
            channels = self._image_channels + self._extra_channels
            pick_a = [1.0] * self._image_channels + [0.0] * self._extra_channels
            pick_b = [0.0] * channels
            pick_b[self._image_channels] = 1.0
            pick_a = ops.reshape(ops.convert_to_tensor(pick_a, guide.dtype), (1, 1, channels, 1))
            pick_b = ops.reshape(ops.convert_to_tensor(pick_b, guide.dtype), (1, 1, channels, 1))
            out = (ops.conv(up * guide, pick_a, strides=1, padding="valid")
                   + ops.conv(up, pick_b, strides=1, padding="valid"))
        else:
            coeff_a, coeff_b = ops.split(coeffs, [self._image_channels], axis=-1)
            up_a = resize_bilinear(coeff_a, size)
            up_b = resize_bilinear(coeff_b, size)
            ones = ops.ones((1, 1, coeff_a.shape[-1], 1), dtype=guide.dtype)
            out = ops.conv(up_a * guide, ones, strides=1, padding="valid") + up_b
        if self.clip:
            clipped = ops.clip(out, 0.0, 1.0)
            if training:
                # Straight-through clip: forward value clip(q), gradient of q. A hard
                # clip has zero gradient outside [0, 1], so a pixel that lands on the
                # wrong side (q < 0 where alpha = 1) never returns; measured: an IGF
                # trained with it plateaued at val SAD 15-33 with holes in the matte.
                clipped = out + ops.stop_gradient(clipped - out)
            out = clipped
        return out

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], 1)

    def get_config(self):
        config = super().get_config()
        config.update({"clip": self.clip})
        return config
