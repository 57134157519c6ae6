"""IGFGenerator: the lightweight hourglass of the Inductive Guided Filter (Li et al. 2019)."""

import keras

from keras_matting.layers.bilinear_up_sampling_2d import BilinearUpSampling2D
from keras_matting.layers.guided_filter_coefficients import GuidedFilterCoefficients
from keras_matting.layers.guided_linear_transform import GuidedLinearTransform
from keras_matting.layers.mask_band_blend import MaskBandBlend
from keras_matting.models.matting_generator import MattingGenerator
from keras_matting.protocol import GUIDED_FILTER_EPS, GUIDED_FILTER_RADIUS

# Keras' default BN momentum (0.99) lagged too far behind the weights: after 200 steps
# (batch 4) inference-mode L1 was 0.41 against 0.11 in training mode; with 0.9, 0.10.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-3
# The guided-filter prior (``guided_filter_prior=True``): the fast guided filter of
# the weak-mask protocol's baseline (its stride s = 4 is COEFFICIENT_STRIDE).
PRIOR_RADIUS = GUIDED_FILTER_RADIUS
PRIOR_EPSILON = GUIDED_FILTER_EPS
# The mask band (``mask_band_radius``): soft transition of 1 coefficient pixel (4 px).
MASK_BAND_RAMP = 1
# Coefficient maps are at 1/4 resolution (the paper's two x4 heads).
COEFFICIENT_STRIDE = 4
# Decoder blocks at 1/16, 1/8 and 1/4 resolution (named after the encoder level).
_DECODER_LEVELS = (4, 3, 2)


def apply_conv_bn_relu(x, filters, strides=1, depthwise=False, relu=True, kernel_size=3, name=None):
    """3x3 (depthwise) convolution, batch normalisation, optional ReLU.

    Convolutions have no bias: batch normalisation follows every one of them
    and both TFLite and tf2onnx fold it into the convolution at export, so it
    costs nothing at inference (the paper leaves the generator's normalisation
    open; BN is what its discriminator uses).
    """
    if depthwise:
        x = keras.layers.DepthwiseConv2D(
            kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_dwconv"
        )(x)
    else:
        x = keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=False,
            name=f"{name}_conv",
        )(x)
    x = keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_bn"
    )(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def apply_residual_block(x, name=None):
    """Basic ResNet block (two 3x3 convolutions, identity shortcut) at constant width."""
    filters = x.shape[-1]
    y = apply_conv_bn_relu(x, filters, name=f"{name}_1")
    y = apply_conv_bn_relu(y, filters, relu=False, name=f"{name}_2")
    y = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def apply_decoder_block(x, skip, filters, num_convs=2, name=None):
    """x2 bilinear upsampling, concatenation with a depthwise-filtered skip, 3x3 convs.

    The shortcut goes through a 3x3 depthwise convolution (paper section 3.2:
    "depthwise convolution ... in the shortcut connections").
    """
    x = BilinearUpSampling2D(2, name=f"{name}_up")(x)
    skip = apply_conv_bn_relu(skip, None, depthwise=True, name=f"{name}_skip")
    x = keras.layers.Concatenate(name=f"{name}_concat")([x, skip])
    for i in range(num_convs):
        x = apply_conv_bn_relu(x, filters, name=f"{name}_{i + 1}")
    return x


def apply_spatial_attention(decoder, input_features, bottleneck, name=None):
    """Spatial attention fusing input and bottleneck features, applied to the decoder.

    Paper section 3.2 fuses "the feature from input and bottleneck" into a
    map "applied to the high-resolution features in the decoder", without
    details. Choice: a 3x3 convolution of the adaptively down-sampled input
    (output of the two depthwise layers, 1/4 resolution) plus a 1x1
    convolution of the bottleneck (1/32) upsampled x8, a sigmoid, and a
    multiplication of the 1/4-resolution decoder features by that
    one-channel map. Reducing the bottleneck to one channel before the x8
    resize (instead of resizing 32 channels and concatenating) is the same
    linear fusion for a 1x1 kernel and keeps the 1/4-resolution work to a
    1-channel resize.
    """
    from_input = keras.layers.Conv2D(1, 3, padding="same", name=f"{name}_input_conv")(
        input_features
    )
    from_bottleneck = keras.layers.Conv2D(1, 1, use_bias=False, name=f"{name}_bottleneck_conv")(
        bottleneck
    )
    # bottleneck at 1/32, decoder at 1/4
    from_bottleneck = BilinearUpSampling2D(8, name=f"{name}_up")(from_bottleneck)
    logits = keras.layers.Add(name=f"{name}_add")([from_input, from_bottleneck])
    attention = keras.layers.Activation("sigmoid", name=f"{name}_sigmoid")(logits)
    return keras.layers.Multiply(name=f"{name}_mul")([decoder, attention])


@keras.saving.register_keras_serializable(package="keras_matting")
class IGFGenerator(MattingGenerator):
    """Inductive Guided Filter generator: alpha = phi_A(I, M) . I + phi_B(I, M).

    A lightweight hourglass (U-Net style) predicts per-pixel linear
    coefficients ``A`` (3 channels) and ``B`` (1 channel) at 1/4 resolution;
    both are upsampled x4 bilinearly (the two right-most "factor 4" upsampling
    layers of the paper's Figure 2, as in the Fast Guided Filter) and applied
    to the full-resolution image, ``alpha = clip(sum_c A_c I_c + B, 0, 1)``.

    Input: one NHWC float32 tensor with 4 channels, ``concat(image in [0, 1],
    weak mask in {0, 1})``; H and W must be multiples of ``size_multiple``
    (32 with the default five stride-2 convolutions); use
    :meth:`predict_alpha` for any size. Output: alpha, ``(N, H, W, 1)`` in
    ``[0, 1]``.

    Default configuration (input 512x512x4; every conv is followed by BN and
    ReLU unless noted; "dw" = depthwise, depth multiplier 1):

    | block | layers | output | params |
    |---|---|---|---|
    | enc1 | dw 2x2 s2 (no 1x1 after it: adaptive down-sampling) | 256x256x4 | 24 |
    | enc2 | dw 2x2 s2 | 128x128x4 | 24 |
    | enc3 | conv 3x3 s2 4->8 | 64x64x8 | 304 |
    | enc4 | conv 3x3 s2 8->16 | 32x32x16 | 1,184 |
    | enc5 | conv 3x3 s2 16->32 | 16x16x32 | 4,672 |
    | res1, res2 | [conv 32->32, conv 32->32 (no ReLU)] + identity, ReLU | 16x16x32 | 37,120 |
    | dec4 | up x2; concat dw3x3(enc4); conv 48->20; conv 20->20 | 32x32x20 | 12,496 |
    | dec3 | up x2; concat dw3x3(enc3); conv 28->8; conv 8->8 | 64x64x8 | 2,712 |
    | dec2 | up x2; concat dw3x3(enc2); conv 12->8 | 128x128x8 | 924 |
    | attention | sigmoid(conv3x3(enc2) + up x8(conv1x1(res2))) x dec2 | 128x128x8 | 69 |
    | phi_A, phi_B | one conv 3x3 8->3+1 (linear, bias) = [A, B] | 128x128x4 | 292 |
    | alpha | up x4 bilinear of A and of B; clip(A.I + B, 0, 1) | 512x512x1 | 0 |

    Trainable parameters: 59,821 (paper: 59,466, +0.6%), plus 568
    non-trainable BN statistics; about 0.13 GFLOPs per 512x512 image.

    Choices where the paper is silent (section 3.2 fixes only the first five
    convolutions: 4, 4, 8, 16, 32 channels, stride 2, depthwise in the first
    two and in the shortcuts; two residual blocks; x4 heads): 2x2 stride-2
    depthwise kernels in the first two layers (non-overlapping learned
    per-channel poolings: the paper's "adaptive down-samplings"; measured
    ~10% faster end to end in TFLite than 3x3, XNNPACK being slow on
    4-channel depthwise convolutions at full resolution), 3x3 elsewhere;
    BN (folded into the convolutions at export); U-Net concatenation of the
    depthwise-filtered skips; decoder widths (20, 8, 8) to land on the
    parameter count with most parameters at 1/16 resolution and below, where
    they are cheapest; one convolution at 1/4 resolution, the costliest
    level on a CPU; attention as in :func:`apply_spatial_attention`; A and B
    upsampled bilinearly (as the Fast Guided Filter), see
    :class:`~keras_matting.layers.guided_linear_transform.GuidedLinearTransform`.

    Args:
        encoder_channels: five ints, output channels of the five stride-2
            convolutions; the first two must equal the input's 4 channels
            (depthwise, depth multiplier 1).
        decoder_channels: three ints, widths of the decoder at 1/16, 1/8 and
            1/4 resolution.
        num_residual_blocks: int, residual blocks in the bottleneck (2).
        stem_kernel_size: int, kernel of the two depthwise stride-2 layers
            (2: non-overlapping learned poolings; 3: overlapping windows).
        guided_filter_prior: bool, an extension (not in the paper, off by default):
            add the fast guided filter's own coefficients, computed from the
            4x area-downsampled image and mask (r = 64 full-resolution pixels,
            eps = 1e-5), to ``[A, B]``, with ``phi_AB`` initialised to zero. The
            untrained network is then exactly the fast guided filter, and
            training learns a correction of it; no weights are added.
        mask_band_radius: int or None, an extension (not in the paper, off by
            default): outside the band of this many input pixels around the
            mask's edge, the alpha is the mask itself (coefficients ``[0, M]``,
            see :class:`~keras_matting.layers.mask_band_blend.MaskBandBlend`),
            so the network refines only where a weak mask can be wrong. No
            weights are added.
        input_shape: static input shape ``(H, W, 4)``; ``(None, None, 4)``
            accepts any multiple of ``size_multiple``.
        **kwargs: ``keras.Model`` arguments (``name``, ``trainable``).

    Example:
    >>> gen = IGFGenerator(encoder_channels=(4, 4, 4, 4, 8), decoder_channels=(4, 4, 4))
    >>> image, mask = np.random.rand(1, 50, 70, 3), np.ones((1, 50, 70, 1))
    >>> gen.predict_alpha(image, mask).shape
    (1, 50, 70)

    Reference:
        Li, Zhang, Zhao, Lu, "Inductive Guided Filter: Real-time Deep Image
        Matting with Weakly Annotated Masks on Mobile Devices", 2019,
        sections 3.1-3.2, 3.4, Figure 2.
    """

    size_multiple = 32
    condition_name = "mask"
    # Layers kept float32 in int8 TFLite exports (keras_matting.export.tflite): the
    # guided-filter coefficients (phi_ab: the correction to them) and their application
    # need float precision.
    float32_layers = ("phi_ab", "prior_down", "prior_ab", "prior_add", "mask_band", "alpha")

    def __init__(
        self,
        encoder_channels=(4, 4, 8, 16, 32),
        decoder_channels=(20, 8, 8),
        num_residual_blocks=2,
        stem_kernel_size=2,
        guided_filter_prior=False,
        mask_band_radius=None,
        input_shape=(None, None, 4),
        **kwargs,
    ):
        encoder_channels = tuple(int(c) for c in encoder_channels)
        decoder_channels = tuple(int(c) for c in decoder_channels)
        input_shape = tuple(input_shape)
        if len(encoder_channels) != 5 or encoder_channels[:2] != (4, 4):
            raise ValueError(
                "encoder_channels must be five ints starting with (4, 4) "
                f"(depthwise on the 4-channel input), got {encoder_channels}"
            )
        if len(decoder_channels) != 3:
            raise ValueError(f"decoder_channels must be three ints, got {decoder_channels}")
        if input_shape[-1] != 4:
            raise ValueError(f"input must have 4 channels (image, mask), got {input_shape}")

        # === Functional model ===
        inputs = keras.Input(shape=input_shape, name="image_mask")
        skips = []
        x = inputs
        for i, filters in enumerate(encoder_channels):
            x = apply_conv_bn_relu(
                x,
                filters,
                strides=2,
                depthwise=i < 2,
                kernel_size=stem_kernel_size if i < 2 else 3,
                name=f"enc{i + 1}",
            )
            skips.append(x)
        for i in range(num_residual_blocks):
            x = apply_residual_block(x, name=f"res{i + 1}")
        bottleneck = x
        for filters, skip, level in zip(
            decoder_channels, skips[3:0:-1], _DECODER_LEVELS, strict=True
        ):
            # One convolution at 1/4 resolution, two below: the 1/4 level is
            # the most expensive one per channel on the CPU.
            num_convs = 1 if level == 2 else 2
            x = apply_decoder_block(x, skip, filters, num_convs=num_convs, name=f"dec{level}")
        # Feature map sizes: 1/4 for x and skips[1]; 1/32 for the bottleneck.
        x = apply_spatial_attention(x, skips[1], bottleneck, name="attention")
        # phi_A and phi_B: one 3x3 convolution with 3 + 1 output channels,
        # split. Identical to two convolutions (same weights, same count) but
        # one op instead of two plus a concatenation (XNNPACK is inefficient
        # on 1-3 output channels).
        initializer = "zeros" if guided_filter_prior else "glorot_uniform"
        coeffs = keras.layers.Conv2D(
            4, 3, padding="same", kernel_initializer=initializer, name="phi_ab"
        )(x)
        # The prior and the band compute in float32 under a mixed dtype policy too: the
        # prior's epsilon (1e-5) is below float16's resolution near 1 and its variances
        # cancel (the float32 arithmetic is ill-conditioned already: README "Backends").
        if guided_filter_prior or mask_band_radius:
            low = keras.layers.AveragePooling2D(
                COEFFICIENT_STRIDE, dtype="float32", name="prior_down"
            )(inputs)
        if guided_filter_prior:
            prior = GuidedFilterCoefficients(
                max(1, round(PRIOR_RADIUS / COEFFICIENT_STRIDE)), PRIOR_EPSILON,
                dtype="float32", name="prior_ab",
            )(low)
            coeffs = keras.layers.Add(dtype="float32", name="prior_add")([prior, coeffs])
        if mask_band_radius:
            coeffs = MaskBandBlend(
                max(1, round(mask_band_radius / COEFFICIENT_STRIDE)),
                ramp=MASK_BAND_RAMP,
                dtype="float32",
                name="mask_band",
            )([coeffs, low])
        # The two right-most x4 bilinear upsamplings (of A and of B) and
        # alpha = sum_c A_c I_c + B at full resolution, clipped to [0, 1].
        # float32 under a mixed dtype policy too: predict_alpha returns float32 alphas.
        alpha = GuidedLinearTransform(clip=True, dtype="float32", name="alpha")([inputs, coeffs])
        super().__init__(inputs=inputs, outputs=alpha, **kwargs)

        # === Config ===
        self.encoder_channels = encoder_channels
        self.decoder_channels = decoder_channels
        self.num_residual_blocks = num_residual_blocks
        self.stem_kernel_size = stem_kernel_size
        self.guided_filter_prior = bool(guided_filter_prior)
        self.mask_band_radius = int(mask_band_radius) if mask_band_radius else None
        self.input_shape_arg = input_shape

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder_channels": list(self.encoder_channels),
            "decoder_channels": list(self.decoder_channels),
            "num_residual_blocks": self.num_residual_blocks,
            "stem_kernel_size": self.stem_kernel_size,
            "guided_filter_prior": self.guided_filter_prior,
            "mask_band_radius": self.mask_band_radius,
            "input_shape": list(self.input_shape_arg),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
