"""The AlphaGAN recipe (Lutz et al. 2018, sections 3.1-3.3)."""

import dataclasses
import os

import numpy as np

from keras_matting.training.recipe_config import RecipeConfig


@dataclasses.dataclass
class AlphaGANRecipeConfig(RecipeConfig):
    """AlphaGAN hyper-parameters; defaults are the paper's where it gives them.

    Paper (3.1-3.3): 320x320 crops (square side 320-720 around an unknown pixel),
    rotation ~ N(0, 5 deg), trimap dilation 2-20 px, flips; ResNet50 encoder
    pre-trained on ImageNet; L = L_alpha + L_comp + L_GAN. The paper does not give
    its optimiser, batch size or steps: we use pix2pix's Adam(2e-4, beta_1=0.5) at a
    constant rate (the PatchGAN's origin, Isola et al. 2017), batch 1 as pix2pix, 100k
    steps.
    ``encoder_weights="imagenet"`` downloads through keras.applications on a
    machine with internet; a path to a local ResNet50 weights file also works.
    """

    output_dir: str = "runs/alphagan"
    crop_size: int = 320
    batch_size: int = 1
    learning_rate: float = 2e-4
    warmup_steps: int = 0
    # Constant, as the paper and pix2pix (section 4: Adam, lr 2e-4) state; "cosine"
    # decays to 0 after the warm-up (gan_trainer_utils.learning_rate_schedule).
    lr_decay: str = "constant"
    # Keras dtype policy of both networks: float32, mixed_bfloat16 or mixed_float16
    # (losses and gradient penalty in float32; float16 updates loss-scaled).
    dtype_policy: str = "float32"
    beta_2: float = 0.999
    alpha_loss_weight: float = 1.0
    comp_loss_weight: float = 1.0
    gan_loss_weight: float = 1.0
    encoder_weights: str = "imagenet"
    val_trimap: str = "Trimap1"


class AlphaGANRecipe:
    """Builds the AlphaGAN trainer, its data and its validation for :func:`run_recipe`."""

    name = "alphagan"
    config_cls = AlphaGANRecipeConfig
    condition = "trimap"

    @staticmethod
    def build_model(config):
        from keras_matting.models.alphagan.alphagan import AlphaGAN
        from keras_matting.models.alphagan.alphagan_generator import AlphaGANGenerator
        from keras_matting.models.alphagan.patchgan_discriminator import PatchGANDiscriminator
        from keras_matting.models.backbones.dilated_resnet_backbone import DilatedResNetBackbone

        if config.tiny:
            backbone = DilatedResNetBackbone(
                stackwise_num_filters=[2, 4, 4, 8], stackwise_num_blocks=[1, 1, 1, 1],
                stem_filters=4,
            )
            generator = AlphaGANGenerator(
                backbone=backbone, aspp_filters=8, skip_filters=(4, 4),
                decoder_filters=((8, 8, 4), (4, 4, 4), (4, 4)),
            )
            discriminator = PatchGANDiscriminator(filters=(4, 8, 8, 8))
        else:
            weights = None if config.encoder_weights in (None, "", "none") else config.encoder_weights
            generator = AlphaGANGenerator(encoder_weights=weights)
            discriminator = PatchGANDiscriminator()
        return AlphaGAN(generator, discriminator, seed=config.seed)

    @staticmethod
    def compile(model, config, g_optimizer, d_optimizer):
        model.compile(
            g_optimizer=g_optimizer,
            d_optimizer=d_optimizer,
            alpha_loss_weight=config.alpha_loss_weight,
            comp_loss_weight=config.comp_loss_weight,
            gan_loss_weight=config.gan_loss_weight,
            jit_compile=config.jit_compile,
        )

    @staticmethod
    def build_dataset(config, fg_dir, alpha_dir, seed):
        from keras_matting.data.alphagan_dataset import build_alphagan_dataset
        from keras_matting.training.recipe_config import dataset_cache

        return build_alphagan_dataset(
            fg_dir, alpha_dir, config.bg_dir,
            batch_size=config.batch_size, crop_size=config.crop_size, seed=seed,
            cache=dataset_cache(config),
        )

    @staticmethod
    def validation_samples(config, val_dir):
        """Real images with ``trimap/<val_trimap>`` as input and as scoring trimap."""
        from keras_matting import io
        from keras_matting.data.eval_dataset import list_eval_samples

        samples = []
        for paths in list_eval_samples(val_dir, trimap=config.val_trimap, mask=False):
            image = io.read_image(paths["image"])
            trimap = io.read_trimap(paths["trimap"], image.shape, paths["image"])
            samples.append({
                "name": paths["name"],
                "image": image,
                "condition": trimap.astype(np.float32) / 255.0,
                "alpha": np.round(io.read_alpha(paths["alpha"]) * 255).astype(np.uint8),
                "scoring_trimap": trimap,
            })
        return samples


def has_val_folder(val_dir):
    return bool(val_dir) and os.path.isdir(os.path.join(val_dir, "image"))
