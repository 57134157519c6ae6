"""What the two GAN trainers (``IGF``, ``AlphaGAN``) share: ``tf.distribute`` plumbing
for their custom ``train_step`` and the optimizer/compile-config handling.

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
    strategy = tf.distribute.get_strategy()
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.extended._in_multi_worker_mode()  # Keras' own test for that reduction
    )
    if not multi_worker:
        return values
    return {name: ops.reshape(value, (1,)) for name, value in values.items()}


class GANTrainerMixin:
    """Keras plumbing of the GAN trainers (``class IGF(GANTrainerMixin, keras.Model)``)."""

    def get_config(self):
        """Both sub-models serialised, so a ``.keras`` file rebuilds the whole trainer."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def compile_from_config(self, config):
        """``self.compile(**config)`` with the two optimizers deserialised."""
        config = dict(config)
        for key in ("g_optimizer", "d_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # The trainers are built in __init__ and their optimizers in compile(): nothing
        # to build. Keras' symbolic build would also reduce a dict batch with
        # strategy.reduce, which fails under MultiWorkerMirroredStrategy
        # (keras-team/keras#20329), and it pulls one batch from the iterator.
        if (self.generator.built and self.discriminator.built
                and self.g_optimizer.built and self.d_optimizer.built):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


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
