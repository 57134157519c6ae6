"""70×70 PatchGAN discriminator (Isola et al. 2017) as used by AlphaGAN (Lutz et al. 2018)."""

import keras


@keras.saving.register_keras_serializable(package="keras_matting")
class PatchGANDiscriminator(keras.Model):
    """PatchGAN: one real/fake logit per overlapping input patch.

    C64 (no BatchNormalization) - C128 - C256 with 4×4 convs at stride 2, C512 at stride 1,
    then a 4×4 conv to 1 channel; LeakyReLU(0.2) after every conv but the last. Each conv is
    preceded by a 1-pixel zero pad and is "valid", as in pix2pix (``n_layers_D=3``), which
    makes the receptive field of each logit 70×70. Convs followed by BatchNormalization have
    no bias. The input is scaled from [0, 1] to [-1, 1].

    Input: ``(N, H, W, 4)``, a composite RGB image in [0, 1] and the trimap in {0, 0.5, 1}
    (Lutz et al. 2018, §3.2.2). Output: logits ``(N, H/8 - 2, W/8 - 2, 1)`` (for H, W
    multiples of 8); D's decision is the mean over patches, so the adversarial losses
    average the per-patch cross-entropy (``alphagan_losses``).

    Default: 2,768,449 parameters (2,766,657 trainable).

    Args:
        filters: widths of the convs before the 1-channel output; all but the last have
            stride 2. ``(64, 128, 256, 512)`` is the 70×70 PatchGAN.
        input_channels: channels of the input (4).
        **kwargs: ``name``, ``trainable``.

    Example:
    >>> d = PatchGANDiscriminator()
    >>> tuple(d(keras.ops.zeros((1, 256, 256, 4))).shape)
    (1, 30, 30, 1)

    Reference:
        Isola, Zhu, Zhou, Efros, Image-to-Image Translation with Conditional Adversarial
        Networks, CVPR 2017; Lutz et al., AlphaGAN, BMVC 2018, §3.2.2.
    """

    def __init__(self, filters=(64, 128, 256, 512), input_channels=4, **kwargs):
        inputs = keras.Input(shape=(None, None, input_channels), name="composite_trimap")
        x = keras.layers.Rescaling(2.0, offset=-1.0, name="input_scaling")(inputs)
        for i, width in enumerate(filters):
            stride = 2 if i < len(filters) - 1 else 1
            x = keras.layers.ZeroPadding2D(1, name=f"c{i + 1}_pad")(x)
            x = keras.layers.Conv2D(
                width, 4, strides=stride, use_bias=i == 0, name=f"c{i + 1}_conv"
            )(x)
            if i > 0:
                x = keras.layers.BatchNormalization(name=f"c{i + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2, name=f"c{i + 1}_leaky_relu")(x)
        x = keras.layers.ZeroPadding2D(1, name="logits_pad")(x)
        logits = keras.layers.Conv2D(1, 4, dtype="float32", name="logits")(x)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.filters = [int(f) for f in filters]
        self.input_channels = int(input_channels)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "filters": self.filters,
            "input_channels": self.input_channels,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
