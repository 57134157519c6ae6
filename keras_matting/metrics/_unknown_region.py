"""Input handling shared by the streaming (Keras) unknown-region metrics."""

import keras
from keras import ops

from keras_matting.protocol import unknown_region


def _squeeze_channel(x, what):
    if len(x.shape) == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if len(x.shape) != 3:
        raise ValueError(
            f"{what} must be (batch, height, width) or (batch, height, width, 1), got {x.shape}"
        )
    return x


def split_inputs(y_true, y_pred, trimap, dtype):
    """Return ``(alpha_true, alpha_pred, unknown)``, each ``(batch, height, width)`` of ``dtype``.

    ``y_true`` is the ground-truth alpha, or, when ``trimap`` is None, the stack
    ``[alpha, trimap]`` on the last axis (2 channels). Float trimaps hold {0, 0.5, 1}
    (128/255 works too); integer trimaps {0, 128, 255}. Unknown: ``1/3 <= t <= 2/3``.
    """
    y_true = ops.convert_to_tensor(y_true)
    if trimap is None:
        if len(y_true.shape) != 4 or y_true.shape[-1] != 2:
            raise ValueError(
                "without trimap=, y_true must stack [alpha, trimap] on the last axis "
                f"(batch, height, width, 2); got shape {y_true.shape}"
            )
        alpha_true, trimap = y_true[..., 0], y_true[..., 1]
    else:
        alpha_true = _squeeze_channel(y_true, "y_true")
        trimap = _squeeze_channel(ops.convert_to_tensor(trimap), "trimap")
    alpha_pred = _squeeze_channel(ops.convert_to_tensor(y_pred), "y_pred")
    if "int" in keras.backend.standardize_dtype(trimap.dtype):
        trimap = ops.cast(trimap, dtype) / 255.0
    trimap = ops.cast(trimap, dtype)
    unknown = unknown_region(trimap, dtype)
    return ops.cast(alpha_true, dtype), ops.cast(alpha_pred, dtype), unknown


def image_weights(sample_weight, batch, dtype):
    """Per-image weights ``(batch,)``; ``sample_weight`` is None, a scalar, (batch,) or (batch, 1)."""
    if sample_weight is None:
        return ops.ones((batch,), dtype)
    weights = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
    if len(weights.shape) > 2:
        raise ValueError(
            "sample_weight weighs whole images: shape (batch,) or (batch, 1), got "
            f"{weights.shape}; pass the trimap as trimap=..."
        )
    return ops.broadcast_to(ops.reshape(weights, (-1,)), (batch,))
