"""One ``fit`` step of a tiny IGF and a tiny AlphaGAN, on one device and under a
``MirroredStrategy`` over 2 logical CPU devices, from the same weights on the same batch.

Run as a script (the logical devices must be configured before TensorFlow initialises
its devices, so not inside the pytest process); prints one JSON line per trainer:
``{"model", "max_update", "mirrored_diff", "unscaled_diff", "state_diff",
"replicas_in_sync", "loss_diff"}`` (see ``tests/training/test_distribute.py``).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf  # noqa: E402

_CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_matting.models import gan_trainer_utils  # noqa: E402

SIZE = 32
LEARNING_RATE = 0.1


def tiny_igf():
    from keras_matting.models.igf import IGF, IGFDiscriminator, IGFGenerator

    generator = IGFGenerator(encoder_channels=(4, 4, 4, 4, 4), decoder_channels=(4, 4, 4),
                             num_residual_blocks=1)
    # num_layers=1: a critic without BatchNormalization (see the test's docstring).
    return IGF(generator, IGFDiscriminator(filters=2, num_layers=1), seed=0)


def tiny_alphagan():
    from keras_matting.models.alphagan import (
        AlphaGAN,
        AlphaGANGenerator,
        PatchGANDiscriminator,
    )
    from keras_matting.models.backbones import DilatedResNetBackbone

    generator = AlphaGANGenerator(
        backbone=DilatedResNetBackbone([4, 8], [1, 1], stem_filters=8), aspp_filters=8,
        aspp_dilation_rates=(2,), skip_filters=(4, 4), decoder_filters=((8,), (8, 8, 8), (4,)),
    )
    # filters=(8,): one C8 layer, which has no BatchNormalization in the PatchGAN.
    return AlphaGAN(generator, PatchGANDiscriminator(filters=(8,)), seed=0)


def batch(kind):
    """A global batch of 2: one sample twice, except AlphaGAN's backgrounds (distinct)."""
    rng = np.random.default_rng(0)
    alpha = np.zeros((1, SIZE, SIZE, 1), "float32")
    alpha[:, 8:24, 8:24] = 1.0
    alpha[:, 6:26, 6:26] = np.maximum(alpha[:, 6:26, 6:26], rng.random((1, 20, 20, 1)) * 0.8)
    image = rng.random((1, SIZE, SIZE, 3)).astype("float32")
    twice = {"image": image, "alpha": alpha}
    if kind == "igf":
        twice["mask"] = (alpha > 0.5).astype("float32")
        return {k: np.repeat(v, 2, axis=0) for k, v in twice.items()}
    twice["trimap"] = np.where(alpha == 1.0, 1.0, np.where(alpha == 0.0, 0.0, 0.5)).astype(
        "float32")
    twice["fg"] = rng.random((1, SIZE, SIZE, 3)).astype("float32")
    data = {k: np.repeat(v, 2, axis=0) for k, v in twice.items()}
    data["bg"] = rng.random((2, SIZE, SIZE, 3)).astype("float32")
    return data


def one_step(kind, strategy, weights, run_eagerly=False):
    """``(initial weights, weights after one SGD fit step, trainable mask, replicas in sync,
    reported g_loss)``."""
    with strategy.scope():
        model = tiny_igf() if kind == "igf" else tiny_alphagan()
        if weights is not None:
            model.set_weights(weights)
        model.compile(g_optimizer=keras.optimizers.SGD(LEARNING_RATE),
                      d_optimizer=keras.optimizers.SGD(LEARNING_RATE), jit_compile=False,
                      run_eagerly=run_eagerly)
    initial = model.get_weights()
    trainable = [any(v is t for t in model.trainable_weights) for v in model.weights]
    dataset = tf.data.Dataset.from_tensor_slices(batch(kind)).batch(2)
    history = model.fit(dataset, epochs=1, verbose=0)
    in_sync = all(
        all(np.array_equal(r.numpy(), local[0].numpy()) for r in local)
        for local in (strategy.experimental_local_results(v) for v in model.weights)
    )
    return initial, model.get_weights(), trainable, in_sync, float(history.history["g_loss"][-1])


def max_abs_diff(a, b, select, relative=False):
    """Max ``|a - b|`` over the selected variables; ``relative``: per variable, divided by
    ``max(1, max |b|)`` (BatchNorm moving variances reach ~50 here)."""
    return max(
        float(np.max(np.abs(x - y))) / (max(1.0, float(np.max(np.abs(y)))) if relative else 1.0)
        for x, y, s in zip(a, b, select, strict=True) if s
    )


def main(kinds):
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    default = tf.distribute.get_strategy()
    scale = gan_trainer_utils.scale_loss_for_replicas
    for kind in kinds:
        keras.utils.set_random_seed(0)
        # The references run eagerly (a third of the time of tracing on 2 CPU cores);
        # the mirrored step under test runs as fit() runs it, in a tf.function.
        initial, single, trainable, _, single_loss = one_step(kind, default, None, True)
        _, replicated, _, in_sync, replicated_loss = one_step(kind, mirrored, initial)
        gan_trainer_utils.scale_loss_for_replicas = lambda loss: loss  # the bug, as a control
        try:
            _, unscaled, _, _, _ = one_step(kind, mirrored, initial, True)
        finally:
            gan_trainer_utils.scale_loss_for_replicas = scale
        state = [not t for t in trainable]
        print(json.dumps({
            "model": kind,
            "max_update": max_abs_diff(single, initial, trainable),
            "mirrored_diff": max_abs_diff(replicated, single, trainable),
            "unscaled_diff": max_abs_diff(unscaled, single, trainable),
            "state_diff": max_abs_diff(replicated, single, state, relative=True),
            "replicas_in_sync": in_sync,
            "loss_diff": abs(replicated_loss - single_loss) / abs(single_loss),
        }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["igf", "alphagan"])
