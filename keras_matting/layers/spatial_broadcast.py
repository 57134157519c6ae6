"""Broadcast a (N, 1, 1, C) map to the height and width of another tensor."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_matting")
class SpatialBroadcast(keras.layers.Layer):
    """Broadcast ``(N, 1, 1, C)`` features to the dynamic ``H x W`` of ``reference``.

    The image-pooling branch of ASPP brings a global feature back to the feature map's size.
    A resize to a size known only at run time does not serialise without a ``Lambda``;
    BROADCAST_TO is a TFLite builtin, ONNX ``Expand`` and XLA-compatible, and copying a
    1×1 map is exactly what bilinear resizing of it computes.

    Call arguments:
        inputs: ``(N, 1, 1, C)`` tensor.
        reference: ``(N, H, W, C')`` tensor providing ``N, H, W``.

    Example:
    >>> pooled = keras.ops.ones((2, 1, 1, 3))
    >>> tuple(SpatialBroadcast()(pooled, keras.ops.zeros((2, 5, 7, 8))).shape)
    (2, 5, 7, 3)

    Reference:
        Chen et al., Rethinking Atrous Convolution for Semantic Image Segmentation, 2017, §3.3.
    """

    def call(self, inputs, reference):
        ref = ops.shape(reference)
        return ops.broadcast_to(inputs, (ref[0], ref[1], ref[2], ops.shape(inputs)[3]))

    def compute_output_shape(self, inputs_shape, reference_shape):
        return (reference_shape[0], reference_shape[1], reference_shape[2], inputs_shape[3])
