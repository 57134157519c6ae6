"""The exported inference function: image + trimap/mask in, alpha out, any size.

Every export format (SavedModel, TFLite, ONNX) wraps the generator in the same function:

- inputs ``image`` ``(N, H, W, 3)`` float32 RGB in [0, 1] and ``trimap`` (AlphaGAN, values
  {0, 0.5, 1}) or ``mask`` (IGF, values {0, 1}) ``(N, H, W, 1)`` float32;
- the two are concatenated, reflect-padded at the bottom/right to the generator's
  ``size_multiple`` (IGF 32, AlphaGAN 8), run, and the alpha is cropped back;
- output ``alpha`` ``(N, H, W, 1)`` float32 in [0, 1];
- computed in float32: a generator built under a mixed dtype policy (``--dtype-policy
  mixed_bfloat16`` / ``mixed_float16``, or a mixed global policy when it was loaded) is
  exported as a float32 copy (:func:`float32_generator`).

With a static size (fixed-size TFLite/ONNX) the padding is computed in Python: a size that
is already a multiple has no pad or crop op at all. With a dynamic size, ``robust=True``
(SavedModel) uses :func:`keras_matting.inference.padding.pad_to_multiple`, which also pads
images smaller than the stride (a ``tf.cond`` + ``tf.while_loop``); ``robust=False``
(TFLite, ONNX) is one ``MIRROR_PAD``/``Pad(reflect)`` and needs ``H, W >= size_multiple``:
no control flow in the mobile graph.
"""

__all__ = [
    "condition_name",
    "float32_generator",
    "packed_alpha",
    "padded_alpha",
    "serving_specs",
    "uint8_to_condition",
]


def condition_name(generator):
    """``"trimap"`` (AlphaGAN) or ``"mask"`` (IGF): the name of the second input."""
    from keras_matting.models.registry import condition_of

    return condition_of(generator)


def float32_generator(generator):
    """``generator`` if all its layers compute in float32, else a float32 copy of it.

    Under a mixed policy the layers compute in bfloat16 / float16 (the variables are float32):
    the TFLite converter finds no builtin kernels for their bfloat16 / float16 ops, tf2onnx
    writes bfloat16 convolutions that onnxruntime refuses, and float16 compute changes the
    alphas (measured on the smoke IGF: up to 6e-5 from float32). The copy is the generator
    rebuilt from its config under the float32 policy, with the same weights.
    """
    import keras

    layers = [generator, *getattr(generator, "layers", ())]
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in layers):
        return generator
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        copy = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(generator))
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(generator.get_weights())
    return copy


def serving_specs(generator, size=None, batch=None, dtype="float32", packed=False):
    """``[TensorSpec image, TensorSpec trimap|mask]`` of the exported function, or with
    ``packed`` one ``image_trimap`` / ``image_mask`` spec with 4 channels.

    Args:
        generator: an ``AlphaGANGenerator`` or ``IGFGenerator``.
        size: ``None`` for any height and width, or ``(height, width)``.
        batch: ``None`` for any batch size, or an int.
        dtype: ``"float32"`` or ``"uint8"``.
    """
    import tensorflow as tf

    h, w = (None, None) if size is None else (int(size[0]), int(size[1]))
    name = condition_name(generator)
    if packed:
        return [tf.TensorSpec((batch, h, w, 4), dtype, name=f"image_{name}")]
    return [
        tf.TensorSpec((batch, h, w, 3), dtype, name="image"),
        tf.TensorSpec((batch, h, w, 1), dtype, name=name),
    ]


def uint8_to_condition(condition, name):
    """uint8 0-255 trimap -> {0, 0.5, 1} (< 85 background, > 170 foreground, as
    ``keras-matting predict``), or mask -> {0, 1} (> 127 foreground)."""
    import tensorflow as tf

    c = tf.cast(condition, tf.float32)
    if name == "trimap":
        return tf.where(c < 85.0, 0.0, tf.where(c > 170.0, 1.0, 0.5))
    return tf.cast(c > 127.0, tf.float32)


def _reflect_pad(x, multiple):
    import tensorflow as tf

    shape = tf.shape(x)
    height, width = shape[1], shape[2]
    pad_h = (multiple - height % multiple) % multiple
    pad_w = (multiple - width % multiple) % multiple
    padded = tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")
    # A run-time pad loses the static channel count in the converter's shape inference
    # (set_shape is not enough, EnsureShape is a Flex op) and TFLite's DEPTHWISE_CONV_2D
    # needs it: a RESHAPE to the same shape with a constant channel count restores it.
    channels = x.shape[-1]
    padded = tf.reshape(padded, tf.stack([shape[0], height + pad_h, width + pad_w, channels]))
    return padded, (height, width)


def padded_alpha(generator, image, condition, robust=True):
    """Alpha ``(N, H, W, 1)`` of ``generator`` for float32 ``image`` and ``condition``.

    Args:
        generator: an ``AlphaGANGenerator`` or ``IGFGenerator`` (has ``size_multiple``).
        image: ``(N, H, W, 3)`` float32 tensor in [0, 1].
        condition: ``(N, H, W, 1)`` float32 trimap or mask.
        robust: dynamic sizes only; see the module docstring.
    """
    import tensorflow as tf

    return packed_alpha(generator, tf.concat([image, condition], axis=-1), robust=robust)


def packed_alpha(generator, x, robust=True):
    """:func:`padded_alpha` of the packed input ``x = concat(image, condition)`` (4 channels).

    A packed input saves the full-resolution CONCATENATION of the two-input graph (measured
    with TFLite/XNNPACK on the 512x512 IGF generator, 2 cores: 3% faster on an idle CPU,
    10-20% under load, when memory bandwidth is the bottleneck).
    """
    import tensorflow as tf

    from keras_matting.inference.padding import crop_to_size, pad_to_multiple

    multiple = generator.size_multiple
    height, width = x.shape[1], x.shape[2]
    if height is not None and width is not None:
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h == 0 and pad_w == 0:
            return generator(x, training=False)
        if pad_h < height and pad_w < width:
            x = tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")
        else:
            x, _ = pad_to_multiple(x, multiple)
        return generator(x, training=False)[:, :height, :width, :]
    if robust:
        padded, size = pad_to_multiple(x, multiple)
        padded.set_shape([x.shape[0], None, None, x.shape[-1]])
    else:
        padded, size = _reflect_pad(x, multiple)
    return crop_to_size(generator(padded, training=False), size)
