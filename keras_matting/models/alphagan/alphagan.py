"""AlphaGAN trainer: generator + PatchGAN discriminator trained with ``model.fit``."""

import keras
from keras import ops

from keras_matting.models import gan_trainer_utils
from keras_matting.models.alphagan.alphagan_generator import AlphaGANGenerator
from keras_matting.models.alphagan.alphagan_losses import (
    alpha_prediction_loss,
    compositional_loss,
    discriminator_loss,
    generator_adversarial_loss,
)
from keras_matting.models.alphagan.patchgan_discriminator import PatchGANDiscriminator
from keras_matting.models.gan_trainer import GANTrainer
from keras_matting.protocol import composite

BATCH_KEYS = ("image", "trimap", "alpha", "fg", "bg")


@keras.saving.register_keras_serializable(package="keras_matting")
class AlphaGAN(GANTrainer):
    """AlphaGAN: trains an ``AlphaGANGenerator`` against a ``PatchGANDiscriminator``.

    A :class:`~keras_matting.models.gan_trainer.GANTrainer`, which owns the optimizers
    and the step skeleton; this class supplies the networks and the losses.

    ``fit`` takes batches ``{"image", "trimap", "alpha", "fg", "bg"}`` (float32, NHWC;
    image/fg/bg 3 channels in [0, 1], trimap in {0, 0.5, 1}, alpha 1 channel). Each
    ``train_step``:

    1. predicts ``alpha_p = G(concat(image, trimap))``;
    2. updates D on ``-[log D(real) + log(1 - D(fake))]`` (eq. 2), with
       ``real = concat(alpha_g F + (1 - alpha_g) B, trimap)`` and
       ``fake = concat(alpha_p F + (1 - alpha_p) B', trimap)``, ``B'`` the batch's
       backgrounds rolled by a random shift in [1, N) (a different background per image
       when N > 1; drawn with a ``keras.random.SeedGenerator``);
    3. updates G on ``w_alpha L_alpha + w_comp L_comp + w_gan (-log D(fake))`` (eq. 3 with
       the non-saturating generator loss), D evaluated after its update.

    Under a ``tf.distribute`` strategy the step equals the single-device step on the
    global batch of N: the losses are divided by ``num_replicas_in_sync`` before
    differentiation (the optimizers sum the replicas' gradients; the reported losses are
    unscaled), ``B'`` is rolled over the global batch (backgrounds are all-gathered
    across replicas), and BatchNormalization statistics are per replica (see
    ``keras_matting.models.gan_trainer_utils``).

    ``test_step`` (``evaluate``, validation) reports ``alpha_loss``, ``comp_loss`` and the
    unknown-region ``sad`` (in thousands) and ``mse`` (``keras_matting.metrics``).
    ``call`` runs the generator on a 4-channel tensor or on a batch dict.

    Args:
        generator: an ``AlphaGANGenerator`` or its config (default: the paper's
            configuration).
        discriminator: a ``PatchGANDiscriminator`` or its config (default: 70×70 PatchGAN).
        seed: seed of the random background choice.
        **kwargs: ``name``, ``trainable``.

    Example:
    ```python
    model = AlphaGAN()
    model.compile(jit_compile=True)  # Adam(2e-4, beta_1=0.5) for G and D
    model.fit(dataset, epochs=...)  # dataset yields the dicts above
    alpha = model.generator.predict_alpha(image, trimap)
    ```

    Reference:
        Lutz, Amplianitis, Smolic, AlphaGAN: Generative adversarial networks for natural
        image matting, BMVC 2018, §3.3; Xu et al., Deep Image Matting, CVPR 2017.
    """

    loss_names = ("d_loss", "g_loss", "alpha_loss", "comp_loss", "gan_loss")

    def __init__(self, generator=None, discriminator=None, seed=None, **kwargs):
        super().__init__(
            AlphaGANGenerator() if generator is None else generator,
            PatchGANDiscriminator() if discriminator is None else discriminator,
            seed=seed,
            **kwargs,
        )

    def default_optimizer(self):
        # AlphaGAN does not give its optimiser; pix2pix's (Isola et al. 2017, §4) for both nets.
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        alpha_loss_weight=1.0,
        comp_loss_weight=1.0,
        gan_loss_weight=1.0,
        **kwargs,
    ):
        """Configure training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances, names or configs) of the
                generator and the discriminator; default ``Adam(2e-4, beta_1=0.5)`` each.
            alpha_loss_weight, comp_loss_weight, gan_loss_weight: weights of the generator
                losses (eq. 3: 1, 1, 1).
            **kwargs: ``Model.compile`` arguments such as ``jit_compile``,
                ``steps_per_execution``, ``run_eagerly``.
        """
        self.alpha_loss_weight = float(alpha_loss_weight)
        self.comp_loss_weight = float(comp_loss_weight)
        self.gan_loss_weight = float(gan_loss_weight)
        super().compile(g_optimizer=g_optimizer, d_optimizer=d_optimizer, **kwargs)

    def _loss_weights(self):
        return {
            "alpha_loss_weight": self.alpha_loss_weight,
            "comp_loss_weight": self.comp_loss_weight,
            "gan_loss_weight": self.gan_loss_weight,
        }

    def generator_inputs(self, data):
        return ops.concatenate([data["image"], data["trimap"]], axis=-1)

    def _other_backgrounds(self, bg):
        # Under tf.distribute the roll runs over the global batch: the shift is drawn in
        # sync on every replica, each replica takes its rows (a per-replica batch of 1
        # would otherwise always get its own background back).
        all_bg, start = gan_trainer_utils.gather_replicas(bg)
        n = ops.cast(ops.shape(all_bg)[0], "int32")
        draw = keras.random.uniform((), seed=self.seed_generator)
        shift = 1 + ops.cast(ops.floor(draw * ops.cast(n - 1, "float32")), "int32")
        rows = ops.arange(ops.shape(bg)[0], dtype="int32") + ops.cast(start, "int32")
        return ops.take(all_bg, ops.mod(rows + shift, n), axis=0)

    def prepare_batch(self, data):
        """``data`` plus ``fake_bg``: the step's ``B'``, shared by both updates."""
        return {**data, "fake_bg": self._other_backgrounds(data["bg"])}

    def _fake(self, data, alpha_pred):
        composited = composite(alpha_pred, data["fg"], data["fake_bg"])
        return ops.concatenate([composited, data["trimap"]], axis=-1)

    def _critic(self, x):
        return ops.cast(self.discriminator(x, training=True), "float32")

    def discriminator_loss(self, data, fake):
        real = ops.concatenate(
            [composite(data["alpha"], data["fg"], data["bg"]), data["trimap"]], axis=-1
        )
        d_loss = discriminator_loss(
            self._critic(real),
            self._critic(self._fake(data, fake)),
        )
        return d_loss, {}

    def generator_loss(self, data, fake):
        image, trimap, alpha, fg, bg = (data[key] for key in BATCH_KEYS)
        alpha_loss = alpha_prediction_loss(alpha, fake, trimap)
        comp_loss = compositional_loss(image, fg, bg, fake, trimap)
        gan_loss = generator_adversarial_loss(
            self._critic(self._fake(data, fake))
        )
        g_loss = (
            self.alpha_loss_weight * alpha_loss
            + self.comp_loss_weight * comp_loss
            + self.gan_loss_weight * gan_loss
        )
        return g_loss, {"alpha_loss": alpha_loss, "comp_loss": comp_loss, "gan_loss": gan_loss}

    def test_step(self, data):
        image, trimap, alpha, fg, bg = (data[key] for key in BATCH_KEYS)
        alpha_pred = ops.cast(
            self.generator(self.generator_inputs(data), training=False), "float32")
        alpha_loss, comp_loss = self.loss_trackers["alpha_loss"], self.loss_trackers["comp_loss"]
        alpha_loss.update_state(alpha_prediction_loss(alpha, alpha_pred, trimap))
        comp_loss.update_state(compositional_loss(image, fg, bg, alpha_pred, trimap))
        self.sad_metric.update_state(alpha, alpha_pred, trimap=trimap)
        self.mse_metric.update_state(alpha, alpha_pred, trimap=trimap)
        return gan_trainer_utils.step_logs({
            m.name: m.result() for m in (alpha_loss, comp_loss, self.sad_metric, self.mse_metric)
        })
