"""MattingGenerator: what both generators share — the any-size prediction path."""

import keras
import numpy as np
import tensorflow as tf

from keras_matting.errors import MattingInputError
from keras_matting.inference.padding import crop_to_size, pad_to_multiple


class MattingGenerator(keras.Model):
    """Base of the matting generators: one 4-channel input, alpha out, any-size predict.

    Subclasses are functional models whose input is ``concat(image, condition)``
    (RGB in [0, 1] plus a trimap in {0, 0.5, 1} or a mask in {0, 1}) with H and W
    multiples of ``size_multiple``, and whose output is alpha ``(N, H, W, 1)``.
    :meth:`predict_alpha` takes any size: it reflect-pads to ``size_multiple`` and crops
    back inside one ``tf.function`` with a dynamic-size signature (``model.predict`` on
    one 512x512 image was measured 2x slower than a ``tf.function`` call).
    """

    size_multiple = 1
    condition_name = "condition"

    def _padded_forward(self, inputs):
        padded, size = pad_to_multiple(inputs, self.size_multiple)
        return crop_to_size(self(padded, training=False), size)

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
        if getattr(self, "_predict_function", None) is None:
            self._predict_function = tf.function(
                self._padded_forward,
                input_signature=[tf.TensorSpec((None, None, None, 4), tf.float32)],
            )
        alpha = self._predict_function(tf.constant(np.concatenate([image, condition], axis=-1)))
        alpha = alpha.numpy()[..., 0]
        return alpha[0] if single else alpha
