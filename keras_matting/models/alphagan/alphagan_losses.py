"""AlphaGAN objectives (Lutz et al. 2018, §3.3): alpha-prediction, compositional, adversarial.

All functions take and return Keras tensors (keras.ops), so they run in eager mode, inside
``tf.function`` and under XLA.
"""

import keras
from keras import ops

from keras_matting.protocol import composite, unknown_region

EPSILON = 1e-6  # Xu et al. 2017, eq. 1: sqrt(d^2 + eps^2)


def _masked_mean(values, mask):
    """Mean of ``values`` over pixels where ``mask`` is 1 (summed over the whole batch)."""
    weights = ops.broadcast_to(mask, ops.shape(values))
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), 1.0)


def alpha_prediction_loss(alpha_true, alpha_pred, trimap, epsilon=EPSILON):
    """``sqrt((alpha_p - alpha_g)^2 + eps^2)`` averaged over the unknown region (Xu et al.).

    Pixels of the whole batch are pooled: the loss is the sum over unknown pixels divided
    by their number (0 when there are none).
    """
    error = ops.sqrt(ops.square(alpha_pred - alpha_true) + epsilon**2)
    return _masked_mean(error, unknown_region(trimap))


def compositional_loss(image, foreground, background, alpha_pred, trimap, epsilon=EPSILON):
    """Same penalty on the composite ``alpha_p F + (1 - alpha_p) B`` against ``image``.

    Averaged over the unknown pixels and the three colour channels (Xu et al. 2017, eq. 2).
    """
    error = ops.sqrt(
        ops.square(composite(alpha_pred, foreground, background) - image) + epsilon**2
    )
    return _masked_mean(error, unknown_region(trimap))


def _bce_with_logits(target, logits):
    # keras' from_logits BCE maps to tf.nn.sigmoid_cross_entropy_with_logits:
    # max(x, 0) - x * z + log(1 + exp(-|x|)), stable for any logit.
    return ops.mean(
        keras.losses.binary_crossentropy(
            ops.full_like(logits, target), logits, from_logits=True, axis=-1
        )
    )


def discriminator_loss(real_logits, fake_logits):
    """D's side of eq. 2: ``-[log D(real) + log(1 - D(fake))]``, averaged over patches."""
    return _bce_with_logits(1.0, real_logits) + _bce_with_logits(0.0, fake_logits)


def generator_adversarial_loss(fake_logits):
    """G's side of eq. 2 in the non-saturating form ``-log D(fake)`` (Goodfellow et al. 2014,
    §3; pix2pix), averaged over patches; it has the same fixed point as minimising
    ``log(1 - D(fake))`` with stronger gradients when D rejects the fakes."""
    return _bce_with_logits(1.0, fake_logits)

