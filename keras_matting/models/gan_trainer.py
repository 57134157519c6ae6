"""GANTrainer: the ``model.fit`` skeleton shared by the AlphaGAN and IGF trainers."""

import keras
import tensorflow as tf
from keras import ops

from keras_matting.errors import MattingInputError
from keras_matting.metrics.unknown_mse import UnknownMSE
from keras_matting.metrics.unknown_sad import UnknownSAD
from keras_matting.models import gan_trainer_utils

# Model.compile arguments kept in the compile config (a resumed run compiles the same way).
_KEPT_COMPILE_ARGUMENTS = ("jit_compile", "steps_per_execution", "run_eagerly")


@keras.saving.register_keras_serializable(package="keras_matting")
class GANTrainer(keras.Model):
    """A generator trained against a discriminator (critic) with ``model.fit``.

    Owns what the GAN trainers share: the two optimizers, ``compile`` and its config,
    the loss trackers, the loss scaling for ``tf.distribute`` replicas, the
    critic-step/generator-step skeleton and the gradient penalty. Each ``train_step``:

    1. ``fake = generate(data, training=True)``, once (BatchNorm statistics update once),
       on a tape of the generator;
    2. :meth:`critic_step`: one update of the discriminator's weights on
       ``discriminator_loss(data, stop_gradient(fake))``;
    3. :meth:`generator_step`: one update of the generator's weights on
       ``generator_loss(data, fake)``, the discriminator evaluated after its update.

    Each update differentiates its own loss with respect to its own network's trainable
    variables only, scaled by its optimizer's ``scale_loss`` (``loss_scale_factor``,
    ``LossScaleOptimizer``), which ``apply`` undoes. Under a ``tf.distribute`` strategy the differentiated losses are
    divided by ``num_replicas_in_sync`` (the optimizers sum the replicas' gradients; the
    logged losses are unscaled); see ``keras_matting.models.gan_trainer_utils``.

    Subclasses supply the networks and the losses: ``loss_names`` (the logged losses),
    ``default_optimizer()``, ``generator_inputs(data)``, ``discriminator_loss(data, fake)``
    and ``generator_loss(data, fake)`` (each returns ``(loss, logs)``), optionally
    ``prepare_batch(data)`` (draws shared by both steps), ``uses_critic()`` (``False`` skips the critic step; its losses are logged as 0) and
    ``test_step``. ``model.optimizer`` is the generator's optimizer, so learning-rate
    callbacks (``ReduceLROnPlateau``, ...) act on a real optimizer.

    Args:
        generator: a ``keras.Model`` (or its serialised config) mapping
            ``generator_inputs(data)`` to an alpha matte.
        discriminator: a ``keras.Model`` (or its serialised config).
        seed: int or None, seed of the trainer's random draws (``seed_generator``).
        **kwargs: ``keras.Model`` arguments (``name``, ``trainable``).

    Example:
    ```python
    model = IGF(IGFGenerator(), IGFDiscriminator())  # a subclass
    model.compile(g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5), jit_compile=True)
    model.fit(dataset, epochs=...)  # dataset yields dict batches
    ```

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (alternating
        updates); Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017
        (gradient penalty); keras-io, "Customizing what happens in fit() with
        TensorFlow" (the GAN example).
    """

    loss_names = ("d_loss", "g_loss")

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        if keras.backend.backend() != "tensorflow":
            raise MattingInputError(
                f"{type(self).__name__} trains on the TensorFlow backend only (its train_step "
                f"is TensorFlow; this is {keras.backend.backend()}): run training with "
                "KERAS_BACKEND=tensorflow; generators load and predict on every backend")
        super().__init__(**kwargs)
        self.generator = _as_model(generator)
        self.discriminator = _as_model(discriminator)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self.sad_metric = UnknownSAD(name="sad")
        self.mse_metric = UnknownMSE(name="mse")
        # The two networks are built functional models: nothing is left to build.
        self.built = True

    # --- Keras API -------------------------------------------------------------------

    def call(self, inputs, training=False):
        """The generator on its input tensor, or on a batch dict."""
        if isinstance(inputs, dict):
            inputs = self.generator_inputs(inputs)
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        return [*self.loss_trackers.values(), self.sad_metric, self.mse_metric]

    def get_config(self):
        """Both networks serialised, so a ``.keras`` file rebuilds the whole trainer."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def default_optimizer(self):
        """A fresh optimizer for either network when ``compile`` is given none."""
        return keras.optimizers.Adam()

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Configure training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances, names or configs) of the
                generator and the discriminator; default :meth:`default_optimizer`.
                ``model.optimizer`` is ``g_optimizer``. A network built under the
                ``mixed_float16`` dtype policy gets its optimizer wrapped in a
                ``keras.optimizers.LossScaleOptimizer``.
            **kwargs: ``keras.Model.compile`` arguments such as ``jit_compile``,
                ``steps_per_execution``, ``run_eagerly``; kept in the compile config.
        """
        if "optimizer" in kwargs:
            raise ValueError("pass g_optimizer and d_optimizer, not optimizer")
        self.g_optimizer = _loss_scaled(keras.optimizers.get(
            self.default_optimizer() if g_optimizer is None else g_optimizer), self.generator)
        self.d_optimizer = _loss_scaled(keras.optimizers.get(
            self.default_optimizer() if d_optimizer is None else d_optimizer),
            self.discriminator)
        super().compile(optimizer=self.g_optimizer, **kwargs)
        self._kept_compile_arguments = {
            key: kwargs[key] for key in _KEPT_COMPILE_ARGUMENTS if key in kwargs
        }
        gan_trainer_utils.build_optimizers(self)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            **gan_trainer_utils.serialize_optimizers(self),
            **self._loss_weights(),
            **self._kept_compile_arguments,
        }

    def compile_from_config(self, config):
        """``compile(**config)`` with the two optimizers deserialised."""
        config = dict(config)
        for key in ("g_optimizer", "d_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # The one private Keras hook left: under a strategy, fit() pulls a batch and
        # reduces it with strategy.reduce, which fails on a dict batch under
        # MultiWorkerMirroredStrategy (keras-team/keras#20329, open); no public API
        # skips it. Everything it would build is built in __init__ and compile().
        if self.built and self.g_optimizer.built and self.d_optimizer.built:
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def _loss_weights(self):
        """The subclass's ``compile`` loss weights, for the compile config."""
        return {}

    # --- Training skeleton ------------------------------------------------------------

    def uses_critic(self):
        """Whether ``train_step`` makes the critic step (a Python bool)."""
        return True

    def generate(self, data, training=True):
        """The generator's prediction on a batch dict."""
        pred = self.generator(self.generator_inputs(data), training=training)
        # Losses and the penalty in float32 under a mixed dtype policy.
        return ops.cast(pred, "float32")

    def prepare_batch(self, data):
        """The batch dict both steps of one ``train_step`` see: ``data`` plus the step's
        random draws shared by both steps (none here)."""
        return data

    def train_step(self, data):
        data = self.prepare_batch(data)
        g_tape = tf.GradientTape()
        with g_tape:
            fake = self.generate(data, training=True)
        logs = {}
        if self.uses_critic():
            logs.update(self.critic_step(data, fake))
        logs.update(self.generator_step(data, fake, g_tape))
        return self._track(logs)

    def critic_step(self, data, fake):
        """One update of the discriminator's weights; returns the loss logs.

        Minimises ``discriminator_loss(data, stop_gradient(fake))`` over
        ``discriminator.trainable_variables`` with ``d_optimizer``.
        """
        fake = ops.stop_gradient(fake)
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            d_loss, logs = self.discriminator_loss(data, fake)
            d_scaled = self.d_optimizer.scale_loss(
                gan_trainer_utils.scale_loss_for_replicas(d_loss))
        self.d_optimizer.apply(tape.gradient(d_scaled, d_vars), d_vars)
        return {"d_loss": d_loss, **logs}

    def generator_step(self, data, fake=None, tape=None):
        """One update of the generator's weights; returns the loss logs.

        Minimises ``generator_loss(data, fake)`` over ``generator.trainable_variables``
        with ``g_optimizer``. ``fake`` and the ``tape`` that recorded it come from
        ``train_step``; without them the generator runs here.
        """
        if tape is None:
            tape = tf.GradientTape()
            with tape:
                fake = self.generate(data, training=True)
        with tape:
            g_loss, logs = self.generator_loss(data, fake)
            g_scaled = self.g_optimizer.scale_loss(
                gan_trainer_utils.scale_loss_for_replicas(g_loss))
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_scaled, g_vars), g_vars)
        return {"g_loss": g_loss, **logs}

    def _track(self, values):
        """Update the loss trackers (losses a step did not compute count as 0)."""
        for name, tracker in self.loss_trackers.items():
            tracker.update_state(values.get(name, 0.0))
        return gan_trainer_utils.step_logs(
            {name: tracker.result() for name, tracker in self.loss_trackers.items()}
        )

    def gradient_penalty(self, critic, real, fake):
        """``E[(||grad_x critic(x)||_2 - 1)^2]`` at ``x = eps real + (1 - eps) fake``.

        ``eps ~ U(0, 1)`` per sample, drawn from ``seed_generator`` (Gulrajani et al.
        2017, Algorithm 1); the norm is per sample over all pixels and channels of ``x``;
        ``critic(x)`` returns the score map, whose mean per sample is the critic value.
        Under ``tf.distribute``, ``eps`` is drawn for the global batch and sliced per
        replica, so replicas do not repeat each other's draws.

        Args:
            critic: callable, ``x`` (NHWC) -> score map (NHWC).
            real, fake: NHWC tensors of the same shape (``fake`` detached).
        """
        real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")
        eps = gan_trainer_utils.per_sample_uniform(ops.shape(real)[0], self.seed_generator)
        mixed = eps * real + (1.0 - eps) * fake
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            value = ops.mean(ops.cast(critic(mixed), "float32"), axis=(1, 2, 3))
        gradients = ops.cast(tape.gradient(value, mixed), "float32")
        norms = ops.sqrt(ops.sum(ops.square(gradients), axis=(1, 2, 3)) + 1e-12)
        return ops.mean(ops.square(norms - 1.0))

    def generator_inputs(self, data):
        raise NotImplementedError

    def discriminator_loss(self, data, fake):
        """``(loss, logs)`` of the critic on ``data`` and the detached ``fake``."""
        raise NotImplementedError

    def generator_loss(self, data, fake):
        """``(loss, logs)`` of the generator on ``data`` and its prediction ``fake``."""
        raise NotImplementedError


def _loss_scaled(optimizer, network):
    """``optimizer`` in a ``LossScaleOptimizer`` when ``network`` computes in float16
    (gradients that underflow in float16 survive the scaled loss)."""
    # A loaded functional model's own policy is the global one; its layers keep theirs.
    policies = {layer.dtype_policy.name for layer in [network, *network.layers]}
    if "mixed_float16" in policies and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _as_model(model):
    if isinstance(model, dict):
        return keras.saving.deserialize_keras_object(model)
    return model
