"""Inductive Guided Filter (Li et al. 2019): generator, discriminator, trainer, losses."""

from keras_matting.models.igf.igf import IGF, igf_learning_rate_schedule, igf_optimizer
from keras_matting.models.igf.igf_discriminator import IGFDiscriminator
from keras_matting.models.igf.igf_generator import IGFGenerator

__all__ = [
    "IGF",
    "IGFDiscriminator",
    "IGFGenerator",
    "igf_learning_rate_schedule",
    "igf_optimizer",
]
