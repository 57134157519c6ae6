"""AlphaGAN trainer: generator + PatchGAN discriminator trained with ``model.fit``."""

import keras
import tensorflow as tf
from keras import ops

from keras_matting.metrics.unknown_mse import UnknownMSE
from keras_matting.metrics.unknown_sad import UnknownSAD
from keras_matting.models import gan_trainer_utils
from keras_matting.models.alphagan.alphagan_generator import AlphaGANGenerator
from keras_matting.models.alphagan.alphagan_losses import (
    alpha_prediction_loss,
    composite,
    compositional_loss,
    discriminator_loss,
    generator_adversarial_loss,
)
from keras_matting.models.alphagan.patchgan_discriminator import PatchGANDiscriminator

BATCH_KEYS = ("image", "trimap", "alpha", "fg", "bg")


def _default_optimizer():
    # AlphaGAN does not give its optimiser; pix2pix's (Isola et al. 2017, §4) for both nets.
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


@keras.saving.register_keras_serializable(package="keras_matting")
class AlphaGAN(gan_trainer_utils.GANTrainerMixin, keras.Model):
    """AlphaGAN: trains an ``AlphaGANGenerator`` against a ``PatchGANDiscriminator``.

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
        generator: an ``AlphaGANGenerator`` (default: the paper's configuration).
        discriminator: a ``PatchGANDiscriminator`` (default: 70×70 PatchGAN).
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

    def __init__(self, generator=None, discriminator=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if generator is None:
            generator = AlphaGANGenerator()
        elif isinstance(generator, dict):
            generator = keras.saving.deserialize_keras_object(generator)
        if discriminator is None:
            discriminator = PatchGANDiscriminator()
        elif isinstance(discriminator, dict):
            discriminator = keras.saving.deserialize_keras_object(discriminator)
        self.generator = generator
        self.discriminator = discriminator
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.alpha_loss_tracker = keras.metrics.Mean(name="alpha_loss")
        self.comp_loss_tracker = keras.metrics.Mean(name="comp_loss")
        self.gan_loss_tracker = keras.metrics.Mean(name="gan_loss")
        self.sad_metric = UnknownSAD(name="sad")
        self.mse_metric = UnknownMSE(name="mse")
        self.built = True

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
        g_optimizer = _default_optimizer() if g_optimizer is None else g_optimizer
        d_optimizer = _default_optimizer() if d_optimizer is None else d_optimizer
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.alpha_loss_weight = float(alpha_loss_weight)
        self.comp_loss_weight = float(comp_loss_weight)
        self.gan_loss_weight = float(gan_loss_weight)
        # model.optimizer is G's, for callbacks (learning-rate schedules, ReduceLROnPlateau).
        super().compile(optimizer=self.g_optimizer, **kwargs)
        gan_trainer_utils.build_optimizers(self)
        self._alphagan_compile_kwargs = {
            key: kwargs[key]
            for key in ("jit_compile", "steps_per_execution", "run_eagerly")
            if key in kwargs
        }

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            **gan_trainer_utils.serialize_optimizers(self),
            "alpha_loss_weight": self.alpha_loss_weight,
            "comp_loss_weight": self.comp_loss_weight,
            "gan_loss_weight": self.gan_loss_weight,
            **self._alphagan_compile_kwargs,
        }


    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.alpha_loss_tracker,
            self.comp_loss_tracker,
            self.gan_loss_tracker,
            self.sad_metric,
            self.mse_metric,
        ]

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = ops.concatenate([inputs["image"], inputs["trimap"]], axis=-1)
        return self.generator(inputs, training=training)

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

    def train_step(self, data):
        image, trimap, alpha, fg, bg = (data[key] for key in BATCH_KEYS)
        inputs = ops.concatenate([image, trimap], axis=-1)
        real = ops.concatenate([composite(fg, bg, alpha), trimap], axis=-1)
        fake_bg = self._other_backgrounds(bg)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables

        with tf.GradientTape() as g_tape:
            alpha_pred = self.generator(inputs, training=True)
            fake = ops.concatenate([composite(fg, fake_bg, alpha_pred), trimap], axis=-1)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    d_loss = discriminator_loss(
                        self.discriminator(real, training=True),
                        self.discriminator(ops.stop_gradient(fake), training=True),
                    )
                    d_scaled = gan_trainer_utils.scale_loss_for_replicas(d_loss)
                self.d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
            alpha_loss = alpha_prediction_loss(alpha, alpha_pred, trimap)
            comp_loss = compositional_loss(image, fg, bg, alpha_pred, trimap)
            gan_loss = generator_adversarial_loss(self.discriminator(fake, training=True))
            g_loss = (
                self.alpha_loss_weight * alpha_loss
                + self.comp_loss_weight * comp_loss
                + self.gan_loss_weight * gan_loss
            )
            g_scaled = gan_trainer_utils.scale_loss_for_replicas(g_loss)
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)

        results = {}
        for tracker, value in (
            (self.d_loss_tracker, d_loss),
            (self.g_loss_tracker, g_loss),
            (self.alpha_loss_tracker, alpha_loss),
            (self.comp_loss_tracker, comp_loss),
            (self.gan_loss_tracker, gan_loss),
        ):
            tracker.update_state(value)
            results[tracker.name] = tracker.result()
        return gan_trainer_utils.step_logs(results)

    def test_step(self, data):
        image, trimap, alpha, fg, bg = (data[key] for key in BATCH_KEYS)
        alpha_pred = self.generator(ops.concatenate([image, trimap], axis=-1), training=False)
        self.alpha_loss_tracker.update_state(alpha_prediction_loss(alpha, alpha_pred, trimap))
        self.comp_loss_tracker.update_state(
            compositional_loss(image, fg, bg, alpha_pred, trimap)
        )
        self.sad_metric.update_state(alpha, alpha_pred, trimap=trimap)
        self.mse_metric.update_state(alpha, alpha_pred, trimap=trimap)
        return gan_trainer_utils.step_logs({
            m.name: m.result()
            for m in (self.alpha_loss_tracker, self.comp_loss_tracker, self.sad_metric,
                      self.mse_metric)
        })

