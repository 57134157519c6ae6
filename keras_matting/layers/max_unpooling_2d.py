"""Unpooling with the one-hot argmax of MaxPoolingWithArgmax2D, built from TFLite builtins."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_matting")
class MaxUnpooling2D(keras.layers.Layer):
    """Place each pooled value back where its window's maximum was (SegNet unpooling).

    Inverse scatter of :class:`MaxPoolingWithArgmax2D` without ``tf.scatter_nd``: for each of
    the ``pool_size ** 2`` window offsets ``(dy, dx)``, the value times that offset's
    one-hot mask is zero-insertion upsampled by ``strides`` and shifted by ``(dy, dx)``;
    the shifted maps are summed. Offsets are grouped by ``(dy % strides, dx % strides)``,
    shifted by whole stride blocks with PAD and interleaved once, a depth-to-space by
    PACK and RESHAPE (builtins, XLA, ONNX, every Keras backend). Windows overlap when ``strides < pool_size``: a pixel that is the
    maximum of several windows receives the sum of their values, as ``tf.scatter_nd`` gives.

    Call arguments:
        values: ``(N, H', W', C)``, the tensor to unpool (same shape as the pooled map).
        mask: ``(N, H', W', pool_size**2, C)`` one-hot mask from ``MaxPoolingWithArgmax2D``.
        reference: optional tensor whose height and width the output takes (the tensor
            before the zero padding that ``cropping`` removes). Without it, the output is
            ``strides * H'`` by ``strides * W'``, which is the input size of the pool for even
            sizes (``cropping=1``, 3×3 / 2 pool, as in ResNet).

    Args:
        pool_size: int, window side of the matching pool.
        strides: int, stride of the matching pool.
        cropping: int, zero padding that was applied before the pool; removed from each
            border of the unpooled map so the output aligns with the un-padded tensor.
        **kwargs: base layer arguments.

    Example:
    >>> x = keras.random.uniform((1, 8, 8, 2))
    >>> pooled, mask = MaxPoolingWithArgmax2D(3, 2)(keras.layers.ZeroPadding2D(1)(x))
    >>> tuple(MaxUnpooling2D(3, 2, cropping=1)(pooled, mask).shape)
    (1, 8, 8, 2)

    Reference:
        Badrinarayanan et al., SegNet, TPAMI 2017; Lutz et al., AlphaGAN, BMVC 2018, Table 4.
    """

    def __init__(self, pool_size=3, strides=2, cropping=0, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.strides = int(strides)
        self.cropping = int(cropping)
        self._extra_blocks = (self.pool_size - 1) // self.strides
        if self.cropping < 0 or self.cropping > self.strides * self._extra_blocks:
            raise ValueError(
                f"cropping must be in [0, {self.strides * self._extra_blocks}] for "
                f"pool_size={pool_size}, strides={strides}; got {cropping}"
            )

    def call(self, values, mask, reference=None):
        k, s, extra, c = self.pool_size, self.strides, self._extra_blocks, self.cropping
        shares = ops.unstack(ops.expand_dims(values, 3) * mask, num=k * k, axis=3)
        phases = {}
        for dy in range(k):
            for dx in range(k):
                qy, ry = divmod(dy, s)
                qx, rx = divmod(dx, s)
                shifted = ops.pad(
                    shares[dy * k + dx], [[0, 0], [qy, extra - qy], [qx, extra - qx], [0, 0]]
                )
                phases[(ry, rx)] = (
                    shifted if (ry, rx) not in phases else phases[(ry, rx)] + shifted
                )
        zeros = None
        blocks = []
        for ry in range(s):
            for rx in range(s):
                if (ry, rx) not in phases:
                    zeros = ops.zeros_like(phases[(0, 0)]) if zeros is None else zeros
                blocks.append(phases.get((ry, rx), zeros))
        # Block grid of (H' + extra) x (W' + extra) cells of s x s pixels, in padded
        # coordinates: depth_to_space by stack and reshape (rank 5 at most).
        _, height, width, channels = ops.shape(blocks[0])
        rows = [
            ops.reshape(ops.stack(blocks[ry * s : (ry + 1) * s], axis=3),
                        (-1, height, width * s, channels))
            for ry in range(s)
        ]
        unpooled = ops.reshape(ops.stack(rows, axis=2), (-1, height * s, width * s, channels))
        if reference is not None:
            shape = ops.shape(reference)
            return unpooled[:, c : c + shape[1], c : c + shape[2], :]
        end = s * extra - c
        return unpooled[:, c : (-end or None), c : (-end or None), :]

    def compute_output_shape(self, values_shape, mask_shape=None, reference_shape=None):
        n, h, w, ch = values_shape
        if reference_shape is not None:
            return (n, reference_shape[1], reference_shape[2], ch)
        s = self.strides
        return (n, None if h is None else s * h, None if w is None else s * w, ch)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"pool_size": self.pool_size, "strides": self.strides, "cropping": self.cropping}
        )
        return config
