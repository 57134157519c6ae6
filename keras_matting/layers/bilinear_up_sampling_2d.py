"""Bilinear upsampling by an integer factor that works with run-time image sizes."""

import keras
from keras import ops

from keras_matting.layers._resize import resize_bilinear


@keras.saving.register_keras_serializable(package="keras_matting")
class BilinearUpSampling2D(keras.layers.Layer):
    """Bilinear upsampling by ``size``, same values as ``UpSampling2D(interpolation="bilinear")``.

    Measured: ``keras.layers.UpSampling2D(interpolation="bilinear")`` (Keras 3.15) fails
    inside a ``tf.function`` whose input height/width are unknown (``keras.ops.image.resize``
    compares the symbolic size with 0 in Python). This layer resizes with the size computed
    in the graph (half-pixel centres, no antialiasing, as Keras does; see
    :func:`keras_matting.layers._resize.resize_bilinear`): ``keras.ops.image.resize`` on
    every backend for static sizes, ``tf.image.resize`` for TensorFlow's dynamic ones
    (RESIZE_BILINEAR in TFLite, ``Resize`` in ONNX, XLA-compatible).

    Args:
        size: int, upsampling factor for height and width.
        **kwargs: base layer arguments.

    Example:
    >>> tuple(BilinearUpSampling2D(2)(keras.ops.ones((1, 3, 5, 2))).shape)
    (1, 6, 10, 2)
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs):
        if self.size == 1:
            return inputs
        shape = ops.shape(inputs)
        return resize_bilinear(inputs, (shape[1] * self.size, shape[2] * self.size))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size, None if w is None else w * self.size, c)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size})
        return config
