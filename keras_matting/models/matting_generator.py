"""MattingGenerator: what both generators share — the any-size prediction path."""

import keras
import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.inference.padding import pad_array_to_multiple


class MattingGenerator(keras.Model):
    """Base of the matting generators: one 4-channel input, alpha out, any-size predict.

    Subclasses are functional models whose input is ``concat(image, condition)``
    (RGB in [0, 1] plus a trimap in {0, 0.5, 1} or a mask in {0, 1}) with H and W
    multiples of ``size_multiple``, and whose output is alpha ``(N, H, W, 1)``.
    :meth:`predict_alpha` takes any size: it reflect-pads to ``size_multiple`` on the
    host, runs the network and crops back. On TensorFlow the network runs in one
    ``tf.function`` with a dynamic-size signature (``model.predict`` on one 512x512
    image was measured 2x slower than a ``tf.function`` call); on the other backends in
    ``predict_on_batch`` (compiled once per padded size on JAX).
    """

    size_multiple = 1
    condition_name = "condition"
    # Names of layers that int8 TFLite exports keep in float32 (selective quantisation).
    float32_layers = ()

    def _forward(self, padded):
        """Alpha of a padded float32 NHWC numpy batch, as numpy."""
        if keras.backend.backend() != "tensorflow":
            return keras.ops.convert_to_numpy(self.predict_on_batch(padded))
        if getattr(self, "_predict_function", None) is None:
            import tensorflow as tf

            self._predict_function = tf.function(
                lambda x: self(x, training=False),
                input_signature=[tf.TensorSpec((None, None, None, 4), tf.float32)],
            )
        return self._predict_function(padded).numpy()

    def predict_alpha(self, image, condition):
        """Alpha matte for one image (H, W, 3) or a batch (N, H, W, 3) of any size.

        Args:
            image: RGB in [0, 1], ``(H, W, 3)`` or ``(N, H, W, 3)``.
            condition: the trimap (AlphaGAN, {0, 0.5, 1}) or weak mask (IGF, {0, 1}),
                ``(H, W)``, ``(H, W, 1)``, ``(N, H, W)`` or ``(N, H, W, 1)``.

        Returns:
            float32 numpy alpha, ``(H, W)`` or ``(N, H, W)``.
        """
        image = np.asarray(image, dtype="float32")
        condition = np.asarray(condition, dtype="float32")
        single = image.ndim == 3
        if single:
            image, condition = image[None], condition[None]
        if condition.ndim == image.ndim - 1:
            condition = condition[..., None]
        if image.ndim != 4 or image.shape[-1] != 3:
            raise MattingInputError(
                f"image has shape {image.shape}; pass RGB as (H, W, 3) or (N, H, W, 3)"
            )
        if condition.shape != image.shape[:3] + (1,):
            raise MattingInputError(
                f"{self.condition_name} shape {condition.shape[1:3]} does not match image "
                f"shape {image.shape[1:3]}; resize the {self.condition_name} to the image"
            )
        padded, (height, width) = pad_array_to_multiple(
            np.concatenate([image, condition], axis=-1), self.size_multiple
        )
        alpha = self._forward(padded)[:, :height, :width, 0]
        return alpha[0] if single else alpha
