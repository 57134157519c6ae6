"""IGF: adversarial trainer of the Inductive Guided Filter (Li et al. 2019, sections 3.2-3.4)."""

import keras
import tensorflow as tf
from keras import ops

from keras_matting.inference.padding import crop_to_size, pad_to_multiple
from keras_matting.metrics import UnknownMSE, UnknownSAD
from keras_matting.models import gan_trainer_utils
from keras_matting.models.igf.igf_discriminator import IGFDiscriminator
from keras_matting.models.igf.igf_generator import IGFGenerator
from keras_matting.models.igf.igf_losses import (
    gabor_filter_bank,
    gabor_loss,
    global_loss,
    gradient_penalty_from_gradients,
    local_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    unknown_region,
)

LEARNING_RATE = 1e-4
ADAM_BETA_1 = 0.5
ADAM_BETA_2 = 0.999
EVAL_TRIMAP_KERNEL = 20


def igf_learning_rate_schedule(total_steps, warmup_steps, learning_rate=LEARNING_RATE):
    """Linear warm-up from 0 to ``learning_rate``, then cosine decay to 0 (paper 3.4).

    Keras' built-in ``CosineDecay`` with ``warmup_target`` is exactly this
    schedule (Xie et al. 2019, "Bag of tricks") and serialises as is.
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps}, {total_steps}")
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=total_steps - warmup_steps,
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )


def igf_optimizer(learning_rate=LEARNING_RATE):
    """Adam(beta_1=0.5, beta_2=0.999) as in the paper; ``learning_rate`` may be a schedule."""
    return keras.optimizers.Adam(learning_rate, beta_1=ADAM_BETA_1, beta_2=ADAM_BETA_2)


@keras.saving.register_keras_serializable(package="keras_matting")
class IGF(gan_trainer_utils.GANTrainerMixin, keras.Model):
    """Inductive Guided Filter trainer: generator + conditional PatchGAN critic.

    ``call()`` runs the generator (input ``concat(image, mask)``, 4
    channels). ``train_step`` makes one critic update, then one generator
    update, on a batch dict ``{"image", "mask", "alpha", ...}`` (extra keys,
    e.g. ``"fg"``, ``"bg"``, are ignored):

    - critic: ``lambda_adv * (L_D + lambda_gp * GP)``, LSGAN
      ``L_D = E[(D(alpha|I,M) - 1)^2] + E[D(pred|I,M)^2]`` with the gradient
      penalty of :meth:`gradient_penalty`;
    - generator: ``lambda_g L_g + lambda_l L_l + lambda_gb L_gb + lambda_adv L_G``
      (eq. 5-9) with ``L_G = E[(D(pred|I,M) - 1)^2]``, the standard LSGAN
      generator loss. The paper prints ``L_G = -E[(D(pred) - 1)^2]``, whose
      minimisation would push predictions away from "real"; we read it as
      a sign typo.

    The generator runs once per step (in training mode, so its BN statistics
    update once): its output, detached, feeds the critic update; the
    generator loss then uses the updated critic.

    Under a ``tf.distribute`` strategy the step equals the single-device step on
    the global batch: the losses are divided by ``num_replicas_in_sync`` before
    differentiation (the optimizers sum the replicas' gradients; the reported
    losses are unscaled), the gradient-penalty ``eps`` is drawn per sample of
    the global batch, and BatchNormalization statistics are per replica
    (see ``keras_matting.models.gan_trainer_utils``).

    ``test_step`` reports SAD
    (/1000) and MSE in the unknown region of ``batch["trimap"]`` ({0, 0.5,
    1}) or, without one, of ``dilate(M, 20) - erode(M, 20)`` (paper 4.2),
    with ``keras_matting.metrics.UnknownSAD`` / ``UnknownMSE`` on float
    alphas (no 8-bit quantisation); inputs are padded to the generator's
    ``size_multiple``.

    Args:
        generator: ``IGFGenerator`` (default: the paper's configuration).
        discriminator: ``IGFDiscriminator`` (default: paper-sized).
        seed: int or None, seed of the gradient-penalty interpolation.
        **kwargs: ``keras.Model`` arguments.

    Example:
    >>> igf = IGF(IGFGenerator(), IGFDiscriminator())
    >>> schedule = igf_learning_rate_schedule(total_steps=100_000, warmup_steps=5_000)
    >>> igf.compile(g_optimizer=igf_optimizer(schedule), d_optimizer=igf_optimizer(schedule))
    >>> igf.fit(dataset, epochs=...)  # dataset yields dict batches

    Reference:
        Li, Zhang, Zhao, Lu, "Inductive Guided Filter", 2019, eq. (5)-(9);
        Mao et al., "Least Squares GANs", ICCV 2017; Gulrajani et al.,
        "Improved Training of Wasserstein GANs", NeurIPS 2017.
    """

    def __init__(self, generator=None, discriminator=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator if generator is not None else IGFGenerator()
        self.discriminator = discriminator if discriminator is not None else IGFDiscriminator()
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._gabor_bank = gabor_filter_bank()
        names = [
            "g_loss",
            "d_loss",
            "global_loss",
            "local_loss",
            "gabor_loss",
            "g_adversarial_loss",
            "d_adversarial_loss",
            "gradient_penalty",
        ]
        self.loss_trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.sad_metric = UnknownSAD(name="sad")
        self.mse_metric = UnknownMSE(name="mse")
        self.built = True

    # --- Keras API -------------------------------------------------------------

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        global_loss_weight=10.0,
        local_loss_weight=1.0,
        gabor_loss_weight=200.0,
        adversarial_loss_weight=1.0,
        gradient_penalty_weight=10.0,
        **kwargs,
    ):
        """Configure training; ``**kwargs`` go to ``keras.Model.compile`` (``jit_compile``, ...).

        Default optimizers: :func:`igf_optimizer` at a constant 1e-4.
        """
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer if g_optimizer is not None else igf_optimizer()
        self.d_optimizer = d_optimizer if d_optimizer is not None else igf_optimizer()
        self.global_loss_weight = float(global_loss_weight)
        self.local_loss_weight = float(local_loss_weight)
        self.gabor_loss_weight = float(gabor_loss_weight)
        self.adversarial_loss_weight = float(adversarial_loss_weight)
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        gan_trainer_utils.build_optimizers(self)

    @property
    def metrics(self):
        return [*self.loss_trackers.values(), self.sad_metric, self.mse_metric]

    # --- Training ---------------------------------------------------------------

    def _critic(self, image, mask, alpha, training=True):
        return self.discriminator(ops.concatenate([image, mask, alpha], axis=-1), training=training)

    def gradient_penalty(self, image, mask, alpha, pred):
        """``E[(||grad_x D(x|I,M)||_2 - 1)^2]`` at ``x = eps alpha + (1 - eps) pred``.

        ``eps ~ U(0, 1)`` per sample (Gulrajani et al. 2017); the norm is per
        sample over all pixels; ``D`` is the mean of the PatchGAN score map
        (the critic value whose expectation the LSGAN losses take). Under
        ``tf.distribute``, ``eps`` is drawn for the global batch and sliced per
        replica, so replicas do not repeat each other's draws.
        """
        eps = gan_trainer_utils.per_sample_uniform(
            ops.shape(alpha)[0], self.seed_generator, dtype=alpha.dtype
        )
        mixed = eps * alpha + (1.0 - eps) * pred
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            scores = self._critic(image, mask, mixed, training=True)
            critic = ops.mean(scores, axis=(1, 2, 3))
        gradients = tape.gradient(critic, mixed)
        return gradient_penalty_from_gradients(gradients)

    def train_step(self, data):
        image, mask, alpha = data["image"], data["mask"], data["alpha"]
        inputs = ops.concatenate([image, mask], axis=-1)

        g_tape = tf.GradientTape()
        with g_tape:
            pred = self.generator(inputs, training=True)

        # Critic update on the detached prediction. With adversarial_loss_weight == 0
        # (a supervised warm-up) the critic is skipped: it costs ~90% of a step on CPU.
        adversarial = self.adversarial_loss_weight > 0
        zero = ops.zeros((), dtype=pred.dtype)
        d_adv = penalty = d_loss = g_adv = zero
        if adversarial:
            fake = ops.stop_gradient(pred)
            with tf.GradientTape() as d_tape:
                d_adv = lsgan_discriminator_loss(
                    self._critic(image, mask, alpha), self._critic(image, mask, fake)
                )
                penalty = self.gradient_penalty(image, mask, alpha, fake)
                d_loss = self.adversarial_loss_weight * (
                    d_adv + self.gradient_penalty_weight * penalty
                )
                # The penalty's inner gradient is w.r.t. the inputs, per sample: only
                # the total is scaled for the cross-replica sum of the weight gradients.
                d_scaled = gan_trainer_utils.scale_loss_for_replicas(d_loss)
            d_vars = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(
                zip(d_tape.gradient(d_scaled, d_vars), d_vars, strict=True)
            )

        # Generator update against the updated critic.
        with g_tape:
            l_global = global_loss(alpha, pred)
            l_local = local_loss(alpha, pred, mask)
            l_gabor = gabor_loss(alpha, pred, self._gabor_bank)
            if adversarial:
                g_adv = lsgan_generator_loss(self._critic(image, mask, pred))
            g_loss = (
                self.global_loss_weight * l_global
                + self.local_loss_weight * l_local
                + self.gabor_loss_weight * l_gabor
                + self.adversarial_loss_weight * g_adv
            )
            g_scaled = gan_trainer_utils.scale_loss_for_replicas(g_loss)
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(
            zip(g_tape.gradient(g_scaled, g_vars), g_vars, strict=True)
        )

        values = {
            "g_loss": g_loss,
            "d_loss": d_loss,
            "global_loss": l_global,
            "local_loss": l_local,
            "gabor_loss": l_gabor,
            "g_adversarial_loss": g_adv,
            "d_adversarial_loss": d_adv,
            "gradient_penalty": penalty,
        }
        for name, value in values.items():
            self.loss_trackers[name].update_state(value)
        return gan_trainer_utils.step_logs(
            {name: tracker.result() for name, tracker in self.loss_trackers.items()}
        )

    def test_step(self, data):
        image, mask, alpha = data["image"], data["mask"], data["alpha"]
        if "trimap" in data:
            trimap = data["trimap"]
        else:
            unknown = unknown_region(mask, EVAL_TRIMAP_KERNEL)
            trimap = ops.where(unknown > 0.5, 0.5, mask)
        inputs, size = pad_to_multiple(
            ops.concatenate([image, mask], axis=-1), self.generator.size_multiple
        )
        pred = crop_to_size(self.generator(inputs, training=False), size)
        self.sad_metric.update_state(alpha, pred, trimap=trimap)
        self.mse_metric.update_state(alpha, pred, trimap=trimap)
        return gan_trainer_utils.step_logs(
            {"sad": self.sad_metric.result(), "mse": self.mse_metric.result()}
        )

    # --- Serialisation ------------------------------------------------------------

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            **gan_trainer_utils.serialize_optimizers(self),
            "global_loss_weight": self.global_loss_weight,
            "local_loss_weight": self.local_loss_weight,
            "gabor_loss_weight": self.gabor_loss_weight,
            "adversarial_loss_weight": self.adversarial_loss_weight,
            "gradient_penalty_weight": self.gradient_penalty_weight,
        }

