"""IGFDiscriminator: conditional PatchGAN critic on (image, mask, alpha) triplets."""

import keras


def apply_sn_conv(x, filters, strides, use_bias, name=None):
    """4x4 convolution wrapped in spectral normalisation (Miyato et al. 2018)."""
    conv = keras.layers.Conv2D(
        filters,
        4,
        strides=strides,
        padding="same",
        use_bias=use_bias,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
        name=f"{name}_conv",
    )
    # The power iteration in float32 under a mixed policy (the convolution keeps its
    # own). In float16 a 1-channel kernel's sigma came out 0.86-0.98 instead of 1, and 1
    # `--smoke --dtype-policy mixed_float16` run in 4 had NaN critic losses (0 in 5 after).
    return keras.layers.SpectralNormalization(conv, dtype="float32", name=f"{name}_sn")(x)


@keras.saving.register_keras_serializable(package="keras_matting")
class IGFDiscriminator(keras.Model):
    """Conditional PatchGAN discriminator of the Inductive Guided Filter.

    Judges whether an alpha matte is consistent with the image and the weak
    mask it was predicted from (paper section 3.3): the input is one NHWC
    tensor with 5 channels, ``concat(image (3), mask (1), alpha (1))``; the
    output is a map of unbounded LSGAN scores, one per receptive-field patch
    (70x70 pixels with the default 5 layers, as in pix2pix).

    Every convolution is wrapped in ``keras.layers.SpectralNormalization``
    and the inner ones are followed by batch normalisation (paper 3.4:
    "Spectral Normalization ... as well as the Batch Normalization").
    The layout is pix2pix's 70x70 PatchGAN (Isola et al. 2017: C-C-C-C, 4x4
    kernels, LeakyReLU 0.2, no normalisation on the first layer, stride 2,
    2, 2, 1, 1) with base width 24 instead of 64; the paper gives only the
    parameter count (400,990), which the width sets.

    Default configuration (input 512x512x5):

    | layer | op | output | trainable params |
    |---|---|---|---|
    | d1 | SN conv 4x4 s2 5->24 + bias, LeakyReLU | 256x256x24 | 1,944 |
    | d2 | SN conv 4x4 s2 24->48, BN, LeakyReLU | 128x128x48 | 18,528 |
    | d3 | SN conv 4x4 s2 48->96, BN, LeakyReLU | 64x64x96 | 73,920 |
    | d4 | SN conv 4x4 s1 96->192, BN, LeakyReLU | 64x64x192 | 295,296 |
    | out | SN conv 4x4 s1 192->1 + bias | 64x64x1 | 3,073 |

    Trainable parameters: 392,761 (paper: 400,990, -2.1%). Non-trainable:
    the spectral-norm power-iteration vectors ``u`` (24+48+96+192+1) and the
    BN moving statistics (672).

    Args:
        filters: int, width of the first layer (doubled per layer up to
            ``8 * filters``).
        num_layers: int, number of convolutions before the output one (4).
        input_shape: static input shape, ``(None, None, 5)`` by default.
        **kwargs: ``keras.Model`` arguments (``name``, ``trainable``).

    Example:
    >>> disc = IGFDiscriminator(filters=4)
    >>> disc(np.zeros((1, 64, 64, 5), "float32")).shape
    TensorShape([1, 8, 8, 1])

    Reference:
        Li et al., "Inductive Guided Filter", 2019, sections 3.3-3.4;
        Isola et al., "Image-to-Image Translation with Conditional
        Adversarial Networks", CVPR 2017 (PatchGAN).
    """

    def __init__(self, filters=24, num_layers=4, input_shape=(None, None, 5), **kwargs):
        input_shape = tuple(input_shape)
        if input_shape[-1] != 5:
            raise ValueError(
                f"input must have 5 channels (image, mask, alpha), got {input_shape}"
            )
        # === Functional model ===
        inputs = keras.Input(shape=input_shape, name="image_mask_alpha")
        x = inputs
        for i in range(num_layers):
            width = filters * min(2**i, 8)
            strides = 2 if i < num_layers - 1 else 1
            x = apply_sn_conv(x, width, strides, use_bias=i == 0, name=f"d{i + 1}")
            if i > 0:
                x = keras.layers.BatchNormalization(name=f"d{i + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2, name=f"d{i + 1}_lrelu")(x)
        outputs = apply_sn_conv(x, 1, 1, use_bias=True, name="out")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.filters = filters
        self.num_layers = num_layers
        self.input_shape_arg = input_shape

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "filters": self.filters,
            "num_layers": self.num_layers,
            "input_shape": list(self.input_shape_arg),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
