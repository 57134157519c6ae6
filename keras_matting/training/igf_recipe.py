"""The Inductive Guided Filter recipe (Li et al. 2019, sections 3.4 and 4.1)."""

import dataclasses
import os
import typing

import numpy as np

from keras_matting.training.recipe_config import RecipeConfig


@dataclasses.dataclass
class IGFRecipeConfig(RecipeConfig):
    """IGF hyper-parameters; defaults are the paper's.

    Paper: 512x512 crops of composites whose shorter side is resized to 600,
    weak masks from random dilation/erosion (5-30 px); Adam(beta_1=0.5,
    beta_2=0.999), learning rate 1e-4 for both networks with linear warm-up and
    cosine decay; loss weights lambda_g=10, lambda_l=1, lambda_gb=200,
    lambda_adv=1, lambda_gp=10. The paper does not state its batch size or
    number of steps: 8 and 100k are ours.
    """

    output_dir: str = "runs/igf"
    crop_size: int = 512
    short_side: int = 600
    batch_size: int = 8
    global_loss_weight: float = 10.0
    local_loss_weight: float = 1.0
    gabor_loss_weight: float = 200.0
    adversarial_loss_weight: float = 1.0
    gradient_penalty_weight: float = 10.0
    # Section 3.4: linear warm-up, then cosine decay to 0 ("constant": no decay).
    lr_decay: str = "cosine"
    # Keras dtype policy of both networks: float32, mixed_bfloat16 or mixed_float16
    # (losses and gradient penalty in float32; float16 updates loss-scaled).
    dtype_policy: str = "float32"
    val_scoring_trimap: str = "Weak"
    # Section 4.1: flips and 11 rotation angles (IGF_ROTATIONS); false: flips only.
    rotations: bool = True
    # Extension: segmenter-like weak masks, colour harmonisation, background defocus,
    # noise and JPEG (igf_dataset.REALISM); off = the paper's composites.
    photo_realism: bool = False
    # Portraits (image/ + alpha/) validated with the automatic person mask, as
    # `predict --mask auto`; the best checkpoint is chosen by `val_score` over both sets.
    val_portraits_dir: typing.Optional[str] = None
    # Extensions, off by default (the paper's model): see IGFGenerator(guided_filter_prior,
    # mask_band_radius).
    guided_filter_prior: bool = False
    mask_band_radius: int = 0


class IGFRecipe:
    """Builds the IGF trainer, its data and its validation for :func:`run_recipe`."""

    name = "igf"
    config_cls = IGFRecipeConfig
    condition = "mask"

    @staticmethod
    def build_model(config):
        from keras_matting.models.igf.igf import IGF
        from keras_matting.models.igf.igf_discriminator import IGFDiscriminator
        from keras_matting.models.igf.igf_generator import IGFGenerator

        if config.tiny:
            generator = IGFGenerator(
                encoder_channels=(4, 4, 4, 4, 8),
                decoder_channels=(4, 4, 4),
                guided_filter_prior=config.guided_filter_prior,
                mask_band_radius=config.mask_band_radius or None,
            )
            discriminator = IGFDiscriminator(**TINY_DISCRIMINATOR)
        else:
            generator = IGFGenerator(
                guided_filter_prior=config.guided_filter_prior,
                mask_band_radius=config.mask_band_radius or None,
            )
            discriminator = IGFDiscriminator()
        return IGF(generator, discriminator, seed=config.seed)

    @staticmethod
    def compile(model, config, g_optimizer, d_optimizer):
        model.compile(
            g_optimizer=g_optimizer,
            d_optimizer=d_optimizer,
            global_loss_weight=config.global_loss_weight,
            local_loss_weight=config.local_loss_weight,
            gabor_loss_weight=config.gabor_loss_weight,
            adversarial_loss_weight=config.adversarial_loss_weight,
            gradient_penalty_weight=config.gradient_penalty_weight,
            jit_compile=config.jit_compile,
        )

    @staticmethod
    def build_dataset(config, fg_dir, alpha_dir, seed):
        from keras_matting.data.igf_dataset import IGF_ROTATIONS, REALISM, build_igf_dataset
        from keras_matting.training.recipe_config import dataset_cache

        return build_igf_dataset(
            fg_dir,
            alpha_dir,
            config.bg_dir,
            batch_size=config.batch_size,
            crop_size=config.crop_size,
            short_side=max(config.short_side, config.crop_size),
            seed=seed,
            rotations=IGF_ROTATIONS if config.rotations else (),
            realism=REALISM if config.photo_realism else None,
            cache=dataset_cache(config),
        )

    # Sets that make `val_score` and the measure of each that is its band error: the
    # paper's protocol (trimap/Weak) on alphamatting_val, the reference's edge band on
    # portraits (their scoring trimap is derived from the automatic mask).
    score_sets = {"alphamatting": "sad", "portraits": "band_sad"}
    monitor = "val_score"

    @staticmethod
    def validation_samples(config, val_dir):
        """Both validation sets: ``val_dir`` (weak masks) and ``val_portraits_dir`` (auto masks)."""
        samples = [dict(s, set="alphamatting") for s in _mask_samples(config, val_dir)]
        portraits = None if config.smoke else config.val_portraits_dir
        if portraits and os.path.isdir(os.path.join(portraits, "image")):
            samples += [dict(s, set="portraits") for s in _portrait_samples(portraits)]
        elif portraits:
            print(f"note: no portraits at {portraits}; validating on {val_dir} only", flush=True)
        return samples


def _portrait_samples(folder):
    """Portraits with the automatic person mask (``--mask auto``) and its derived trimap."""
    from keras_matting import io
    from keras_matting.data.eval_dataset import list_eval_samples
    from keras_matting.inference.person_mask import person_mask

    samples = []
    for paths in list_eval_samples(folder, trimap=None, mask=False):
        image = io.read_image(paths["image"])
        mask = person_mask(image)
        samples.append(
            {
                "name": paths["name"],
                "image": image,
                "condition": mask,
                "alpha": io.quantize(io.read_alpha(paths["alpha"]), 8),
                "scoring_trimap": _trimap_from_mask(mask),
            }
        )
    return samples


def _mask_samples(config, val_dir):
    """Real images with their weak masks, scored on ``trimap/<val_scoring_trimap>``."""
    from keras_matting import io
    from keras_matting.data.eval_dataset import list_eval_samples

    scoring = config.val_scoring_trimap
    has_scoring = os.path.isdir(os.path.join(val_dir, "trimap", scoring))
    samples = []
    for paths in list_eval_samples(val_dir, trimap=scoring if has_scoring else None, mask=True):
        image = io.read_image(paths["image"])
        mask = io.read_mask(paths["mask"], image.shape, paths["image"])
        trimap = (
            io.read_trimap(paths["trimap"], image.shape, paths["image"])
            if has_scoring
            else _trimap_from_mask(mask)
        )
        samples.append(
            {
                "name": paths["name"],
                "image": image,
                "condition": mask,
                "alpha": np.round(io.read_alpha(paths["alpha"]) * 255).astype(np.uint8),
                "scoring_trimap": trimap,
            }
        )
    return samples


TINY_DISCRIMINATOR = {"filters": 4, "num_layers": 3}


def _trimap_from_mask(mask):
    """Scoring trimap of the IGF paper (4.2) as uint8 {0, 128, 255}."""
    from keras_matting.protocol import scoring_trimap_np, trimap_to_uint8

    return trimap_to_uint8(scoring_trimap_np(mask))
