"""Inductive Guided Filter (Li et al. 2019): generator, discriminator, trainer, losses.

The networks are backend-neutral Keras; the trainer (:class:`IGF`, TensorFlow's
``train_step``) is imported on first access, so loading a generator imports no TensorFlow
on the JAX or PyTorch backends.
"""

from keras_matting.models.igf.igf_discriminator import IGFDiscriminator
from keras_matting.models.igf.igf_generator import IGFGenerator

_TRAINER = ("IGF", "igf_learning_rate_schedule", "igf_optimizer")

__all__ = [
    "IGF",
    "IGFDiscriminator",
    "IGFGenerator",
    "igf_learning_rate_schedule",
    "igf_optimizer",
]


def __getattr__(name):
    if name in _TRAINER:
        from keras_matting.models.igf import igf

        return getattr(igf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
