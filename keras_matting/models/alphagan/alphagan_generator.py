"""AlphaGAN generator: dilated ResNet50 + ASPP encoder, unpooling decoder (Lutz et al. 2018).

Table 4 (supplementary 6.1) leaves some details open; the choices made here, by row:

- encoder input: the RGB image in [0, 1] is scaled to 0-255 minus the ImageNet mean (the
  "caffe" preprocessing keras' ResNet50 weights expect, RGB order; conv1's kernel is flipped
  from BGR when weights are copied) and the trimap {0, 0.5, 1} to {-127.5, 0, 127.5}, by one
  ``Rescaling`` layer (``input_normalization``).
- ``conv1`` … ``conv5_x``: ResNet50 as in ``keras.applications`` with conv4_x / conv5_x
  dilated (rates 2, 4) for output stride 8 (``DilatedResNetBackbone``).
- ``aspp``: 1×1, 3×3 r6, r12, r18 and image pooling (global mean → 1×1 conv → broadcast),
  256 filters each, concatenated and projected by 1×1 to 256 (DeepLabv3, Chen et al. 2017
  §3.3; no dropout, the table has none). With batch size 1 in training, the image-pooling
  branch's BatchNormalization sees one value per channel (output = its beta), as in
  DeepLabv3, which trains with larger batches.
- ``bilinear``: bilinear ×(output_stride / 4) to stride 4 (``BilinearUpSampling2D``, the
  values of ``UpSampling2D(interpolation="bilinear")``, which fails on run-time sizes).
- ``deconv1_x``: "skip from conv2_x, 1×1, 48" is a 1×1 conv of conv2_x's output (256 ch),
  concatenated after the upsampled ASPP output, then 3×3 convs 256, 128, 64.
- ``unpooling`` "2×2 unpool, stride 2": unpooling by 2 with the argmax of the encoder's
  3×3 / 2 max pool (``pool1_pool``; §3.2.1 "the saved pooling indices"), cropped to conv1's
  size (``MaxUnpooling2D(3, 2, cropping=1)``). The last deconv1_x conv must therefore have
  as many channels as conv1 (64).
- ``deconv2_x``: "skip from conv1_x, 1×1, 32" is a 1×1 conv of ``conv1_relu``'s output,
  concatenated after the unpooled features; then 3×3 64 at stride 2, the "3×3, 64, stride
  1/2" row as a ``Conv2DTranspose(64, 3, strides=2, padding="same")`` to stride 1
  (its output is 320×320 in the table), then 3×3 32.
- ``deconv3_x`` "skip from RGB image": the [0, 1] RGB input, concatenated after.
- ``deconv4_x``: 3×3 32, 3×3 32, then 3×3 1 + sigmoid.
- Every conv but the last is conv (no bias) → BatchNormalization → ReLU; the last has a
  bias.

Parameter count of the default (paper) configuration: 40,345,601 in all (40,287,905
trainable, 57,696 BatchNormalization moving statistics); the ResNet50 backbone with a
4-channel conv1 is 23,590,848 of it (keras' ResNet50 without top, 23,587,712, plus the
7×7×64 weights of the trimap channel), ASPP 15,538,176, the decoder 1,216,577.
"""

import keras

from keras_matting.layers.bilinear_up_sampling_2d import BilinearUpSampling2D
from keras_matting.layers.max_unpooling_2d import MaxUnpooling2D
from keras_matting.layers.spatial_broadcast import SpatialBroadcast
from keras_matting.models.backbones.dilated_resnet_backbone import (
    BN_MOMENTUM,
    DilatedResNetBackbone,
)
from keras_matting.models.matting_generator import MattingGenerator

IMAGENET_MEAN_RGB = (123.68, 116.779, 103.939)  # keras.applications "caffe" mode, RGB order


def apply_conv_bn_relu(x, filters, kernel_size, dilation_rate=1, name=None):
    """Conv (no bias, "same") → BatchNormalization → ReLU, named ``{name}_conv/_bn/_relu``."""
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        dilation_rate=dilation_rate,
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def apply_aspp(x, filters=256, dilation_rates=(6, 12, 18), name="aspp"):
    """Atrous spatial pyramid pooling (DeepLabv3, Chen et al. 2017, §3.3).

    Branches: 1×1; one 3×3 per rate; image pooling (global mean → 1×1 → BN → ReLU →
    broadcast back to the dynamic H×W). All ``filters`` wide with BN + ReLU, concatenated
    and projected by a 1×1 conv to ``filters`` (BN + ReLU).
    """
    branches = [apply_conv_bn_relu(x, filters, 1, name=f"{name}_1x1")]
    for rate in dilation_rates:
        branches.append(apply_conv_bn_relu(x, filters, 3, rate, name=f"{name}_r{rate}"))
    pooled = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool")(x)
    pooled = apply_conv_bn_relu(pooled, filters, 1, name=f"{name}_pool")
    branches.append(SpatialBroadcast(name=f"{name}_pool_broadcast")(pooled, x))
    x = keras.layers.Concatenate(name=f"{name}_concat")(branches)
    return apply_conv_bn_relu(x, filters, 1, name=f"{name}_projection")


@keras.saving.register_keras_serializable(package="keras_matting")
class AlphaGANGenerator(MattingGenerator):
    """AlphaGAN generator: 4-channel image + trimap in, alpha matte out.

    Input: one ``(N, H, W, 4)`` float32 tensor, RGB in [0, 1] concatenated with the trimap in
    {0, 0.5, 1}; H and W must be multiples of :attr:`size_multiple` (8). Output:
    ``(N, H, W, 1)`` alpha in [0, 1] (sigmoid). :meth:`predict_alpha` takes any size.
    See the module docstring for how each row of Table 4 is implemented.

    The default configuration is the paper's: 40,345,601 parameters (40,287,905 trainable).

    Args:
        backbone: a ``DilatedResNetBackbone`` with ``input_channels=4``; default: the
            ``"resnet50"`` preset (output stride 8).
        aspp_filters: filters of every ASPP branch and of its projection (256).
        aspp_dilation_rates: rates of the 3×3 ASPP branches ((6, 12, 18)).
        skip_filters: 1×1 projections of the stride-4 (conv2_x) and stride-2 (conv1) skips
            ((48, 32)).
        decoder_filters: 3×3 conv widths of deconv1_x, deconv2_x (3 values: conv, transposed
            conv, conv) and deconv4_x; ``((256, 128, 64), (64, 64, 32), (32, 32))``. The last
            deconv1_x value must equal the backbone's ``stem_filters`` (unpooling).
        encoder_weights: ``None``, ``"imagenet"`` or a path to a 3-channel Keras ResNet50
            ``.keras`` / ``.weights.h5`` file, copied into the backbone at construction (see
            ``DilatedResNetBackbone.load_resnet50_weights``). Not stored in the config: a
            saved model carries its weights.
        **kwargs: ``name``, ``trainable``.

    Example:
    >>> from keras_matting.models.backbones.dilated_resnet_backbone import (
    ...     DilatedResNetBackbone)
    >>> tiny = AlphaGANGenerator(
    ...     backbone=DilatedResNetBackbone([4, 4, 8, 8], [1, 1, 1, 1], stem_filters=8),
    ...     aspp_filters=8, skip_filters=(4, 4), decoder_filters=((8, 8, 8), (8, 8, 8), (4, 4)))
    >>> alpha = tiny.predict_alpha(np.zeros((33, 50, 3)), np.full((33, 50), 0.5))
    >>> alpha.shape
    (33, 50)

    Reference:
        Lutz, Amplianitis, Smolic, AlphaGAN: Generative adversarial networks for natural
        image matting, BMVC 2018, §3.2.1 and Table 4.
    """

    size_multiple = 8
    condition_name = "trimap"

    def __init__(
        self,
        backbone=None,
        aspp_filters=256,
        aspp_dilation_rates=(6, 12, 18),
        skip_filters=(48, 32),
        decoder_filters=((256, 128, 64), (64, 64, 32), (32, 32)),
        encoder_weights=None,
        **kwargs,
    ):
        if backbone is None:
            backbone = DilatedResNetBackbone.from_preset("resnet50")
        elif isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if backbone.input_channels != 4:
            raise ValueError(f"backbone must take 4 input channels, has {backbone.input_channels}")
        deconv1, deconv2, deconv4 = (tuple(int(f) for f in group) for group in decoder_filters)
        if len(deconv2) != 3:
            raise ValueError(f"decoder_filters[1] needs 3 values, got {deconv2}")
        if deconv1[-1] != backbone.stem_filters:
            raise ValueError(
                f"decoder_filters[0][-1] ({deconv1[-1]}) must equal the backbone's stem_filters "
                f"({backbone.stem_filters}): the unpooling reuses the max-pool argmax"
            )
        if encoder_weights is not None:
            backbone.load_resnet50_weights(encoder_weights)

        inputs = keras.Input(shape=(None, None, 4), name="image_trimap")
        rgb = inputs[:, :, :, :3]
        normalized = keras.layers.Rescaling(
            scale=[255.0, 255.0, 255.0, 255.0],
            offset=[-m for m in IMAGENET_MEAN_RGB] + [-127.5],
            name="input_normalization",
        )(inputs)
        encoder = backbone(normalized)
        x = apply_aspp(encoder["features"], aspp_filters, aspp_dilation_rates, name="aspp")

        x = BilinearUpSampling2D(backbone.output_stride // 4, name="bilinear")(x)
        skip = apply_conv_bn_relu(encoder["conv2"], skip_filters[0], 1, name="deconv1_skip")
        x = keras.layers.Concatenate(name="deconv1_concat")([x, skip])
        for i, filters in enumerate(deconv1):
            x = apply_conv_bn_relu(x, filters, 3, name=f"deconv1_{i + 1}")

        x = MaxUnpooling2D(3, 2, cropping=1, name="unpooling")(x, encoder["pool1_mask"])
        skip = apply_conv_bn_relu(encoder["conv1"], skip_filters[1], 1, name="deconv2_skip")
        x = keras.layers.Concatenate(name="deconv2_concat")([x, skip])
        x = apply_conv_bn_relu(x, deconv2[0], 3, name="deconv2_1")
        x = keras.layers.Conv2DTranspose(
            deconv2[1], 3, strides=2, padding="same", use_bias=False, name="deconv2_2_conv"
        )(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="deconv2_2_bn")(x)
        x = keras.layers.Activation("relu", name="deconv2_2_relu")(x)
        x = apply_conv_bn_relu(x, deconv2[2], 3, name="deconv2_3")

        x = keras.layers.Concatenate(name="deconv3_concat")([x, rgb])
        for i, filters in enumerate(deconv4):
            x = apply_conv_bn_relu(x, filters, 3, name=f"deconv4_{i + 1}")
        alpha = keras.layers.Conv2D(
            1, 3, padding="same", activation="sigmoid", dtype="float32", name="alpha"
        )(x)
        super().__init__(inputs=inputs, outputs=alpha, **kwargs)

        self.backbone = backbone
        self.aspp_filters = int(aspp_filters)
        self.aspp_dilation_rates = [int(r) for r in aspp_dilation_rates]
        self.skip_filters = [int(f) for f in skip_filters]
        self.decoder_filters = [list(deconv1), list(deconv2), list(deconv4)]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "aspp_filters": self.aspp_filters,
            "aspp_dilation_rates": self.aspp_dilation_rates,
            "skip_filters": self.skip_filters,
            "decoder_filters": self.decoder_filters,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
