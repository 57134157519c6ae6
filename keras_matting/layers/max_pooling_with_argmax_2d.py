"""Max pooling that also returns where each maximum came from, built from TFLite builtins."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_matting")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """Square max pooling (``"valid"`` padding) returning the pooled map and a one-hot argmax.

    ``tf.nn.max_pool_with_argmax`` has no XLA kernel, is not a TFLite builtin and its Flex
    op does not run in Python's LiteRT interpreter. This layer gathers the
    ``pool_size ** 2`` shifted, strided window candidates, stacks them on a new axis and
    takes ``argmax`` → ``one_hot`` (STRIDED_SLICE, CONCATENATION, ARG_MAX, ONE_HOT,
    REDUCE_MAX: TFLite builtins, XLA-compilable, ONNX-exportable).
    :class:`MaxUnpooling2D` puts values back at the recorded positions.

    Tie rule: the first maximum in row-major window order (top-most row, then left-most
    column) wins, as in ``tf.nn.max_pool_with_argmax``. With zero padding in front of the
    pool and post-ReLU inputs, a window whose maximum is 0 can therefore point at a padding
    pixel; unpooling then writes that window's value into the padding border, which
    ``MaxUnpooling2D(cropping=...)`` removes (the value is dropped, as it is by a
    ``tf.scatter_nd`` unpool followed by the same crop).

    Args:
        pool_size: int, side of the square pooling window.
        strides: int, stride of the window in both directions.
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Returns:
        ``(pooled, mask)``: ``pooled`` is ``(N, H', W', C)`` with
        ``H' = (H - pool_size) // strides + 1``; ``mask`` is ``(N, H', W', pool_size**2, C)``,
        one-hot along axis 3 (window offset ``dy * pool_size + dx``), in the input dtype.

    Example:
    >>> x = keras.ops.ones((1, 8, 8, 2))
    >>> pooled, mask = MaxPoolingWithArgmax2D(3, 2)(x)
    >>> tuple(pooled.shape), tuple(mask.shape)
    ((1, 3, 3, 2), (1, 3, 3, 9, 2))

    Reference:
        Badrinarayanan et al., SegNet, TPAMI 2017 (pooling indices for unpooling).
    """

    def __init__(self, pool_size=3, strides=2, **kwargs):
        super().__init__(**kwargs)
        if int(pool_size) < 1 or int(strides) < 1:
            raise ValueError(f"pool_size and strides must be >= 1, got {pool_size}, {strides}")
        self.pool_size = int(pool_size)
        self.strides = int(strides)

    def call(self, inputs):
        k, s = self.pool_size, self.strides
        shape = ops.shape(inputs)
        out_h = (shape[1] - k) // s + 1
        out_w = (shape[2] - k) // s + 1
        candidates = []
        for dy in range(k):
            for dx in range(k):
                window = inputs[
                    :, dy : dy + s * (out_h - 1) + 1 : s, dx : dx + s * (out_w - 1) + 1 : s, :
                ]
                # Measured: x[..., None, :] converts to a Flex StridedSlice (new_axis_mask);
                # expand_dims stays a builtin.
                candidates.append(ops.expand_dims(window, 3))
        stacked = ops.concatenate(candidates, axis=3)
        pooled = ops.max(stacked, axis=3)
        # argmax of the "is a maximum" indicator: the first maximum, as tf.argmax. Keras
        # 3.15's ops.argmax of floats maps -0.0 below 0.0 (its flush-to-zero fix), which
        # would break the tie rule on zeros.
        is_max = ops.cast(ops.equal(stacked, ops.expand_dims(pooled, 3)), "int32")
        index = ops.cast(ops.argmax(is_max, axis=3), "int32")
        mask = ops.one_hot(index, k * k, axis=3, dtype=inputs.dtype)
        return pooled, mask

    def compute_output_shape(self, input_shape):
        k, s = self.pool_size, self.strides
        n, h, w, c = input_shape
        h = None if h is None else (h - k) // s + 1
        w = None if w is None else (w - k) // s + 1
        return (n, h, w, c), (n, h, w, k * k, c)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides})
        return config
