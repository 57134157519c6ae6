"""IGF: adversarial trainer of the Inductive Guided Filter (Li et al. 2019, sections 3.2-3.4)."""

import keras
from keras import ops

from keras_matting.inference.padding import crop_to_size, pad_to_multiple
from keras_matting.models import gan_trainer_utils
from keras_matting.models.gan_trainer import GANTrainer
from keras_matting.models.igf.igf_discriminator import IGFDiscriminator
from keras_matting.models.igf.igf_generator import IGFGenerator
from keras_matting.models.igf.igf_losses import (
    gabor_filter_bank,
    gabor_loss,
    global_loss,
    local_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from keras_matting.protocol import SCORING_KERNEL, scoring_trimap

LEARNING_RATE = 1e-4
ADAM_BETA_1 = 0.5
ADAM_BETA_2 = 0.999
EVAL_TRIMAP_KERNEL = SCORING_KERNEL


def igf_learning_rate_schedule(total_steps, warmup_steps, learning_rate=LEARNING_RATE):
    """Linear warm-up from 0 to ``learning_rate``, then cosine decay to 0 (paper 3.4).

    ``gan_trainer_utils.learning_rate_schedule`` with ``decay="cosine"`` (the recipes'
    schedule); a serialisable ``keras.optimizers.schedules.CosineDecay``.
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps}, {total_steps}")
    return gan_trainer_utils.learning_rate_schedule(
        learning_rate, total_steps, warmup_steps, decay="cosine"
    )


def igf_optimizer(learning_rate=LEARNING_RATE):
    """Adam(beta_1=0.5, beta_2=0.999) as in the paper; ``learning_rate`` may be a schedule."""
    return keras.optimizers.Adam(learning_rate, beta_1=ADAM_BETA_1, beta_2=ADAM_BETA_2)


@keras.saving.register_keras_serializable(package="keras_matting")
class IGF(GANTrainer):
    """Inductive Guided Filter trainer: generator + conditional PatchGAN critic.

    A :class:`~keras_matting.models.gan_trainer.GANTrainer` (which owns the optimizers,
    the step skeleton and the gradient penalty): ``call()`` runs the generator (input
    ``concat(image, mask)``, 4 channels, or a batch dict). ``train_step`` makes one
    critic update, then one generator update, on a batch dict
    ``{"image", "mask", "alpha", ...}`` (extra keys, e.g. ``"fg"``, ``"bg"``, are
    ignored):

    - critic: ``lambda_adv * (L_D + lambda_gp * GP)``, LSGAN
      ``L_D = E[(D(alpha|I,M) - 1)^2] + E[D(pred|I,M)^2]`` with the gradient
      penalty of :meth:`gradient_penalty`;
    - generator: ``lambda_g L_g + lambda_l L_l + lambda_gb L_gb + lambda_adv L_G``
      (eq. 5-9) with ``L_G = E[(D(pred|I,M) - 1)^2]``, the standard LSGAN
      generator loss. The paper prints ``L_G = -E[(D(pred) - 1)^2]``, whose
      minimisation would push predictions away from "real"; we read it as
      a sign typo.

    With ``adversarial_loss_weight == 0`` (a supervised warm-up) the critic step is
    skipped and its losses are logged as 0.

    The paper's critic (section 3.4) has BatchNormalization, which Gulrajani et al.
    2017 (section 4, "no critic batch normalization") advise against with a gradient
    penalty: in training mode the critic's value on one sample
    depends on the whole batch, so the penalised gradient is not per sample. We keep
    the paper's critic; ``IGFDiscriminator(num_layers=1)`` has no BatchNormalization.

    ``test_step`` reports SAD
    (/1000) and MSE in the unknown region of ``batch["trimap"]`` ({0, 0.5,
    1}) or, without one, of ``dilate(M, 20) - erode(M, 20)`` (paper 4.2),
    with ``keras_matting.metrics.UnknownSAD`` / ``UnknownMSE`` on float
    alphas (no 8-bit quantisation); inputs are padded to the generator's
    ``size_multiple``.

    Args:
        generator: ``IGFGenerator`` or its config (default: the paper's configuration).
        discriminator: ``IGFDiscriminator`` or its config (default: paper-sized).
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

    loss_names = (
        "g_loss",
        "d_loss",
        "global_loss",
        "local_loss",
        "gabor_loss",
        "g_adversarial_loss",
        "d_adversarial_loss",
        "gradient_penalty",
    )

    def __init__(self, generator=None, discriminator=None, seed=None, **kwargs):
        super().__init__(
            IGFGenerator() if generator is None else generator,
            IGFDiscriminator() if discriminator is None else discriminator,
            seed=seed,
            **kwargs,
        )
        self._gabor_bank = gabor_filter_bank()

    def default_optimizer(self):
        """:func:`igf_optimizer` at a constant 1e-4."""
        return igf_optimizer()

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
        """Configure training (loss weights of eq. 9: 10, 1, 200, 1 and lambda_gp 10).

        Args:
            g_optimizer, d_optimizer: default :func:`igf_optimizer` at a constant 1e-4.
            global_loss_weight, local_loss_weight, gabor_loss_weight,
                adversarial_loss_weight, gradient_penalty_weight: the lambdas.
            **kwargs: ``keras.Model.compile`` arguments (``jit_compile``, ...).
        """
        self.global_loss_weight = float(global_loss_weight)
        self.local_loss_weight = float(local_loss_weight)
        self.gabor_loss_weight = float(gabor_loss_weight)
        self.adversarial_loss_weight = float(adversarial_loss_weight)
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        super().compile(g_optimizer=g_optimizer, d_optimizer=d_optimizer, **kwargs)

    def _loss_weights(self):
        return {
            "global_loss_weight": self.global_loss_weight,
            "local_loss_weight": self.local_loss_weight,
            "gabor_loss_weight": self.gabor_loss_weight,
            "adversarial_loss_weight": self.adversarial_loss_weight,
            "gradient_penalty_weight": self.gradient_penalty_weight,
        }

    # --- Losses -------------------------------------------------------------------

    def generator_inputs(self, data):
        return ops.concatenate([data["image"], data["mask"]], axis=-1)

    def uses_critic(self):
        # The critic costs ~90% of a step on CPU: skipped in a supervised warm-up.
        return self.adversarial_loss_weight > 0

    def _critic(self, image, mask, alpha, training=True):
        scores = self.discriminator(ops.concatenate([image, mask, alpha], axis=-1),
                                    training=training)
        return ops.cast(scores, "float32")

    def gradient_penalty(self, image, mask, alpha, pred):
        """:meth:`GANTrainer.gradient_penalty` of the critic ``D(. | I, M)`` between the
        real ``alpha`` and the detached prediction ``pred``: only the alpha channel is
        interpolated, image and mask are the condition."""
        return super().gradient_penalty(
            lambda x: self._critic(image, mask, x), alpha, pred
        )

    def discriminator_loss(self, data, fake):
        image, mask, alpha = data["image"], data["mask"], data["alpha"]
        d_adv = lsgan_discriminator_loss(
            self._critic(image, mask, alpha), self._critic(image, mask, fake)
        )
        penalty = self.gradient_penalty(image, mask, alpha, fake)
        d_loss = self.adversarial_loss_weight * (d_adv + self.gradient_penalty_weight * penalty)
        return d_loss, {"d_adversarial_loss": d_adv, "gradient_penalty": penalty}

    def generator_loss(self, data, fake):
        image, mask, alpha = data["image"], data["mask"], data["alpha"]
        l_global = global_loss(alpha, fake)
        l_local = local_loss(alpha, fake, mask)
        l_gabor = gabor_loss(alpha, fake, self._gabor_bank)
        g_loss = (
            self.global_loss_weight * l_global
            + self.local_loss_weight * l_local
            + self.gabor_loss_weight * l_gabor
        )
        logs = {"global_loss": l_global, "local_loss": l_local, "gabor_loss": l_gabor}
        if self.uses_critic():
            g_adv = lsgan_generator_loss(self._critic(image, mask, fake))
            g_loss = g_loss + self.adversarial_loss_weight * g_adv
            logs["g_adversarial_loss"] = g_adv
        return g_loss, logs

    # --- Evaluation -----------------------------------------------------------------

    def test_step(self, data):
        image, mask, alpha = data["image"], data["mask"], data["alpha"]
        if "trimap" in data:
            trimap = data["trimap"]
        else:
            trimap = scoring_trimap(mask, EVAL_TRIMAP_KERNEL)
        inputs, size = pad_to_multiple(
            ops.concatenate([image, mask], axis=-1), self.generator.size_multiple
        )
        pred = ops.cast(crop_to_size(self.generator(inputs, training=False), size), "float32")
        self.sad_metric.update_state(alpha, pred, trimap=trimap)
        self.mse_metric.update_state(alpha, pred, trimap=trimap)
        return gan_trainer_utils.step_logs(
            {"sad": self.sad_metric.result(), "mse": self.mse_metric.result()}
        )
