"""Helpers of :class:`keras_matting.models.gan_trainer.GANTrainer` (the base of ``IGF``
and ``AlphaGAN``): ``tf.distribute`` plumbing for its custom ``train_step``, optimizer
building and serialisation, and the learning-rate schedule of both recipes.

Under a ``tf.distribute`` strategy each replica runs ``train_step`` on its share of the
global batch and Keras' optimizers SUM the replicas' gradients
(``keras/src/backend/tensorflow/optimizer.py: _all_reduce_sum_gradients``). Keras'
built-in ``compute_loss`` therefore scales the loss by ``1 / num_replicas_in_sync``
(``keras/src/losses/loss.py: scale_loss_for_distribution``); a custom ``train_step``
that takes per-replica batch means has to do the same, or its gradients are
``num_replicas_in_sync`` times too large.

Randomness: a ``keras.random.SeedGenerator`` created under the strategy's scope is a
mirrored variable, so every replica draws the same numbers. Per-sample draws are
therefore made for the whole global batch and each replica takes its own slice
(:func:`replica_batch_slice`): replicas get different numbers, and the step equals the
single-device step on the same global batch.

BatchNormalization: batch statistics are per replica (over the replica's share of the
batch), as ``keras.layers.BatchNormalization`` does under ``tf.distribute``; the papers'
layers are kept (``synchronized=True`` would be SyncBN). Keras 3 also keeps the moving
statistics per replica (``aggregation="none"``), so replicas drift apart and the saved
model would hold replica 0's: :class:`SyncReplicaStatistics` averages them over the
replicas at each epoch end. The moving averages are linear in the batch statistics, so
this equals averaging them at every step.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops


def num_replicas_in_sync():
    """Replicas of the current strategy (1 without one); usable inside ``train_step``."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def scale_loss_for_replicas(loss):
    """``loss / num_replicas_in_sync``: the loss to differentiate in a custom ``train_step``.

    Keras' optimizers sum gradients over replicas, so this makes the update the one of a
    single device on the global batch (as ``keras.losses.Loss`` does for ``compute_loss``).
    Report the unscaled loss to metrics.
    """
    replicas = num_replicas_in_sync()
    if replicas == 1:
        return loss
    return ops.multiply(loss, ops.cast(1.0 / replicas, loss.dtype))


def _replica_context():
    """``(replica_id, num_replicas)``; ``(0, 1)`` outside ``strategy.run``."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def replica_batch_slice(local_batch):
    """``(start, global_batch)``: where this replica's samples sit in the global batch.

    ``tf.distribute`` splits a global batch into equal consecutive shares, replica 0
    first; ``(0, local_batch)`` without a strategy.
    """
    replica_id, replicas = _replica_context()
    if replicas == 1:
        return 0, local_batch
    return replica_id * local_batch, replicas * local_batch


def per_sample_uniform(local_batch, seed_generator, dtype="float32"):
    """``U(0, 1)`` of shape ``(local_batch, 1, 1, 1)``, one draw per sample of the global batch.

    Draws the whole global batch from ``seed_generator`` (in sync on every replica)
    and returns this replica's slice, so replicas draw different numbers.
    """
    start, total = replica_batch_slice(local_batch)
    draws = keras.random.uniform((total, 1, 1, 1), seed=seed_generator, dtype=dtype)
    return ops.slice(draws, (start, 0, 0, 0), (local_batch, 1, 1, 1))


def gather_replicas(x):
    """``(global_x, start)``: ``x`` concatenated over the replicas (axis 0), and the offset
    of this replica's rows in it; ``(x, 0)`` without a strategy."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return x, 0
    start, _ = replica_batch_slice(ops.shape(x)[0])
    return context.all_gather(x, axis=0), start


def is_multi_worker(strategy):
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` over more than one worker
    (the condition of Keras' cross-worker reduction of the step logs).

    Its replicas are the local devices of every worker, ``extended.worker_devices`` this
    worker's only.
    """
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)
    )


def learning_rate_schedule(learning_rate, total_steps, warmup_steps=0, decay="cosine"):
    """The learning rate of both recipes: linear warm-up from 0 over ``warmup_steps``,
    then ``decay`` over the remaining steps.

    ``decay="cosine"``: cosine decay to 0 (the IGF paper, section 3.4; Keras'
    ``CosineDecay`` with ``warmup_target`` is exactly this, Loshchilov & Hutter 2017);
    ``"constant"``: ``learning_rate`` after the warm-up (AlphaGAN and pix2pix give a
    constant rate). ``warmup_steps`` is clipped to ``total_steps - 1``. Returns a float
    when there is nothing to schedule, else a serialisable Keras schedule.
    """
    if decay not in ("cosine", "constant"):
        raise ValueError(f"decay must be 'cosine' or 'constant', got {decay!r}")
    total_steps = max(int(total_steps), 1)
    warmup_steps = min(max(int(warmup_steps), 0), total_steps - 1)
    if decay == "constant" and warmup_steps == 0:
        return float(learning_rate)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=float(learning_rate),
        warmup_steps=warmup_steps,
        alpha=1.0 if decay == "constant" else 0.0,
    )


def build_optimizers(trainer):
    """Create the optimizers' slot variables now, under the caller's strategy scope:
    they cannot be created inside the (possibly XLA) train function."""
    for optimizer, network in ((trainer.g_optimizer, trainer.generator),
                               (trainer.d_optimizer, trainer.discriminator)):
        if not optimizer.built:
            optimizer.build(network.trainable_variables)


def serialize_optimizers(trainer):
    return {
        "g_optimizer": keras.saving.serialize_keras_object(trainer.g_optimizer),
        "d_optimizer": keras.saving.serialize_keras_object(trainer.d_optimizer),
    }


def step_logs(values):
    """The ``train_step``/``test_step`` return value for ``fit``'s cross-replica reduction.

    Under a multi-worker ``MultiWorkerMirroredStrategy`` Keras 3 reduces each returned
    value with ``strategy.reduce("MEAN", v, axis=0)``, which fails on scalars
    (tensorflow/tensorflow#72388); shape ``(1,)`` reduces to the scalar mean over the
    replicas. Other strategies get the scalars.
    """
    if not is_multi_worker(tf.distribute.get_strategy()):
        return values
    return {name: ops.reshape(value, (1,)) for name, value in values.items()}


def sync_replica_statistics(model):
    """Average ``model``'s non-trainable float variables (BatchNorm moving statistics)
    over the replicas of its strategy; a no-op with one replica. Every worker must call
    it (it is a collective)."""
    strategy = model.distribute_strategy
    if strategy.num_replicas_in_sync == 1:
        return
    function = getattr(model, "_sync_replica_statistics_fn", None)
    if function is None:
        variables = [v for v in model.non_trainable_variables if _is_float(v.dtype)]
        if not variables:
            return

        sizes = [int(np.prod(v.shape)) for v in variables]

        def replica_fn():
            # One collective on the replica's device: in a tf.function a tensor has no
            # device of its own, and MultiWorkerMirroredStrategy needs one to reduce to.
            with tf.device(variables[0].value.device):
                flat = tf.concat([tf.reshape(tf.cast(v.value, "float32"), [-1])
                                  for v in variables], axis=0)
                mean = tf.distribute.get_replica_context().all_reduce(
                    tf.distribute.ReduceOp.MEAN, flat)
            for variable, part in zip(variables, tf.split(mean, sizes), strict=True):
                variable.assign(tf.cast(tf.reshape(part, variable.shape), variable.dtype))

        function = tf.function(lambda: strategy.run(replica_fn))
        model._sync_replica_statistics_fn = function
    function()


def _is_float(dtype):
    return keras.backend.standardize_dtype(dtype).startswith(("float", "bfloat"))


class SyncReplicaStatistics(keras.callbacks.Callback):
    """Calls :func:`sync_replica_statistics` at each epoch end; place it before the
    callbacks that validate or save the model."""

    def on_epoch_end(self, epoch, logs=None):
        sync_replica_statistics(self.model)
