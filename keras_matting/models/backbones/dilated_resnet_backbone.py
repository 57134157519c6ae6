"""Dilated ResNet (v1, bottleneck) backbone with Keras-applications layer names."""

import os

import keras
import numpy as np

from keras_matting.layers.max_pooling_with_argmax_2d import MaxPoolingWithArgmax2D

BN_EPSILON = 1.001e-5  # keras.applications.resnet
# keras.applications uses Keras' default 0.99; with AlphaGAN's batch of 1 the moving
# statistics then lag the weights for thousands of steps (the IGF generator measured
# inference-mode L1 0.41 vs 0.11 in training mode after 200 steps; 0.10 with 0.9).
BN_MOMENTUM = 0.9

PRESETS = {
    "resnet50": {
        "stackwise_num_filters": [64, 128, 256, 512],
        "stackwise_num_blocks": [3, 4, 6, 3],
        "stem_filters": 64,
    },
}


def apply_bottleneck_block(
    x, filters, stride=1, dilation_rate=1, conv_shortcut=True, expansion=4, name=None
):
    """ResNet v1 bottleneck (``keras.applications.resnet.block1``), with a dilated 3×3 conv.

    Layer names are ``{name}_0_conv`` (projection shortcut), ``{name}_1_conv`` … ``_3_bn``,
    ``{name}_add``, ``{name}_out``, as in ``keras.applications``; the stride sits on the first
    1×1 convolution, as there.
    """
    if conv_shortcut:
        shortcut = keras.layers.Conv2D(
            expansion * filters, 1, strides=stride, name=f"{name}_0_conv"
        )(x)
        shortcut = keras.layers.BatchNormalization(
            momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_0_bn"
        )(shortcut)
    else:
        shortcut = x
    x = keras.layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_1_bn"
    )(x)
    x = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = keras.layers.Conv2D(
        filters, 3, padding="same", dilation_rate=dilation_rate, name=f"{name}_2_conv"
    )(x)
    x = keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_2_bn"
    )(x)
    x = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = keras.layers.Conv2D(expansion * filters, 1, name=f"{name}_3_conv")(x)
    x = keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_3_bn"
    )(x)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def apply_stack(x, filters, blocks, stride=2, dilation_rate=1, name=None):
    """``blocks`` bottlenecks named ``{name}_block1`` …; only the first strides/projects."""
    x = apply_bottleneck_block(
        x, filters, stride=stride, dilation_rate=dilation_rate, name=f"{name}_block1"
    )
    for i in range(2, blocks + 1):
        x = apply_bottleneck_block(
            x, filters, dilation_rate=dilation_rate, conv_shortcut=False, name=f"{name}_block{i}"
        )
    return x


def stage_strides_and_rates(num_stages, output_stride):
    """Per-stage (stride, dilation rate) for stages conv2_x, conv3_x, … after the stride-4 stem.

    As tf-models' DilatedResNet / slim's ``stack_blocks_dense``: once the running stride
    has reached ``output_stride``, later stages use stride 1 and multiply the dilation rate
    by the stride they would have had.
    """
    current_stride, rate, plan = 4, 1, []
    for i in range(num_stages):
        stride = 1 if i == 0 else 2
        if current_stride * stride > output_stride:
            rate *= stride
            stride = 1
        else:
            current_stride *= stride
        plan.append((stride, rate))
    return plan


@keras.saving.register_keras_serializable(package="keras_matting")
class DilatedResNetBackbone(keras.Model):
    """Dilated ResNet v1 encoder with Keras-applications layer names and max-pool argmax.

    The ResNet50 preset is ``keras.applications.ResNet50`` without its top (same layer
    names, so ImageNet weights copy by name), except that conv4_x and conv5_x use stride 1
    and 3×3 dilation rates 2 and 4 for an output stride of 8 (Lutz et al. 2018, §3.2.1;
    Chen et al. 2017), the first convolution takes ``input_channels`` channels and
    ``pool1_pool`` also returns its one-hot argmax for the decoder's unpooling.

    Inputs are expected normalised as ``keras.applications.resnet50.preprocess_input``
    ("caffe": 0-255 minus the ImageNet mean) but in RGB order; :meth:`load_resnet50_weights`
    flips conv1's kernel from BGR to RGB.

    Outputs (a dict):
        ``"conv1"``: stride-2 features after ``conv1_relu`` (``stem_filters`` channels).
        ``"conv2"``: stride-4 output of conv2_x (``4 * stackwise_num_filters[0]`` channels).
        ``"features"``: output of the last stage, at stride ``output_stride``.
        ``"pool1_mask"``: one-hot argmax of the 3×3 / 2 max pool (``MaxPoolingWithArgmax2D``),
            over the 1-pixel zero-padded conv1 output.

    Args:
        stackwise_num_filters: bottleneck widths per stage (outputs are 4× wider).
        stackwise_num_blocks: blocks per stage; ResNet50 is ``[3, 4, 6, 3]``.
        stem_filters: filters of the 7×7 / 2 stem convolution ``conv1_conv``.
        input_channels: channels of the input (4: RGB + trimap).
        output_stride: 4, 8 (default), 16 or 32.
        **kwargs: ``name``, ``trainable``.

    Example:
    >>> backbone = DilatedResNetBackbone(
    ...     stackwise_num_filters=[4, 4, 8, 8], stackwise_num_blocks=[1, 1, 1, 1],
    ...     stem_filters=4)
    >>> out = backbone(keras.ops.zeros((1, 32, 32, 4)))
    >>> tuple(out["features"].shape), tuple(out["conv1"].shape)
    ((1, 4, 4, 32), (1, 16, 16, 4))
    >>> resnet50 = DilatedResNetBackbone.from_preset("resnet50")

    Reference:
        He et al., Deep Residual Learning, CVPR 2016; Chen et al., DeepLab / Rethinking
        Atrous Convolution, 2017; Lutz et al., AlphaGAN, BMVC 2018, Table 4.
    """

    presets = PRESETS

    def __init__(
        self,
        stackwise_num_filters=(64, 128, 256, 512),
        stackwise_num_blocks=(3, 4, 6, 3),
        stem_filters=64,
        input_channels=4,
        output_stride=8,
        **kwargs,
    ):
        if len(stackwise_num_filters) != len(stackwise_num_blocks):
            raise ValueError(
                "stackwise_num_filters and stackwise_num_blocks must have the same length, "
                f"got {stackwise_num_filters} and {stackwise_num_blocks}"
            )
        if output_stride not in (4, 8, 16, 32):
            raise ValueError(f"output_stride must be 4, 8, 16 or 32, got {output_stride}")
        inputs = keras.Input(shape=(None, None, input_channels), name="inputs")
        x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
        x = keras.layers.Conv2D(stem_filters, 7, strides=2, name="conv1_conv")(x)
        x = keras.layers.BatchNormalization(
            momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="conv1_bn"
        )(x)
        conv1 = keras.layers.Activation("relu", name="conv1_relu")(x)
        x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(conv1)
        x, pool1_mask = MaxPoolingWithArgmax2D(3, 2, name="pool1_pool")(x)
        plan = stage_strides_and_rates(len(stackwise_num_filters), output_stride)
        stage_outputs = []
        for i, ((stride, rate), filters, blocks) in enumerate(
            zip(plan, stackwise_num_filters, stackwise_num_blocks, strict=True)
        ):
            x = apply_stack(
                x, filters, blocks, stride=stride, dilation_rate=rate, name=f"conv{i + 2}"
            )
            stage_outputs.append(x)
        outputs = {
            "conv1": conv1,
            "conv2": stage_outputs[0],
            "features": stage_outputs[-1],
            "pool1_mask": pool1_mask,
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.stackwise_num_filters = [int(f) for f in stackwise_num_filters]
        self.stackwise_num_blocks = [int(b) for b in stackwise_num_blocks]
        self.stem_filters = int(stem_filters)
        self.input_channels = int(input_channels)
        self.output_stride = int(output_stride)
        self.dilation_rates = [rate for _, rate in plan]

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """Build a named variant (``"resnet50"``); ``kwargs`` override its arguments."""
        if preset not in cls.presets:
            raise ValueError(f"Unknown preset {preset!r}; available: {sorted(cls.presets)}")
        return cls(**{**cls.presets[preset], **kwargs})

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "stackwise_num_filters": self.stackwise_num_filters,
            "stackwise_num_blocks": self.stackwise_num_blocks,
            "stem_filters": self.stem_filters,
            "input_channels": self.input_channels,
            "output_stride": self.output_stride,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def load_resnet50_weights(self, weights="imagenet"):
        """Copy a 3-channel ``keras.applications`` ResNet50's weights in, by layer name.

        Args:
            weights: ``"imagenet"`` (``keras.applications`` downloads and caches them), a
                path to a ``.keras`` model or a ``.weights.h5`` file of a 3-channel Keras
                ResNet50 (with or without its top), or a ``keras.Model``.

        ``conv1_conv``'s kernel is copied into the first three input channels with BGR→RGB
        order reversed (keras ResNet50 weights expect caffe BGR inputs) and the remaining
        input channels are initialised with zeros (Lutz et al. 2018, §3.2.1).
        """
        source = _resnet50_source(weights)
        source_layers = {layer.name: layer for layer in source.layers if layer.weights}
        for layer in self.layers:
            if not layer.weights:
                continue
            if layer.name not in source_layers:
                raise ValueError(f"Layer {layer.name!r} is missing from the ResNet50 weights")
            values = [np.asarray(w) for w in source_layers[layer.name].get_weights()]
            if layer.name == "conv1_conv":
                kernel = np.zeros(tuple(layer.weights[0].shape), dtype=values[0].dtype)
                if (
                    kernel.shape[:2] != values[0].shape[:2]
                    or kernel.shape[3] != values[0].shape[3]
                    or kernel.shape[2] < 3
                ):
                    raise ValueError(
                        f"conv1_conv has shape {kernel.shape}, cannot hold {values[0].shape}"
                    )
                kernel[:, :, :3, :] = values[0][:, :, ::-1, :]
                values[0] = kernel
            expected = [tuple(w.shape) for w in layer.weights]
            if expected != [v.shape for v in values]:
                raise ValueError(
                    f"Layer {layer.name!r} has weight shapes {expected}, the ResNet50 weights "
                    f"have {[v.shape for v in values]}; use the 'resnet50' preset"
                )
            layer.set_weights(values)


def _resnet50_source(weights):
    if isinstance(weights, keras.Model):
        return weights
    if weights == "imagenet":
        return keras.applications.ResNet50(
            include_top=False, weights="imagenet", input_shape=(None, None, 3)
        )
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ResNet50 weights file not found: {path}")
    if path.endswith(".keras"):
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    errors = []
    for include_top in (True, False):
        model = keras.applications.ResNet50(
            include_top=include_top, weights=None, input_shape=(224, 224, 3)
        )
        try:
            model.load_weights(path)
            return model
        except ValueError as error:
            errors.append(str(error).splitlines()[0])
    raise ValueError(f"{path} does not hold keras ResNet50 weights: {errors}")
