"""AlphaGAN (Lutz et al., BMVC 2018): generator, PatchGAN discriminator, trainer, losses.

The networks are backend-neutral Keras; the trainer (:class:`AlphaGAN`, TensorFlow's
``train_step``) is imported on first access, so loading a generator imports no TensorFlow
on the JAX or PyTorch backends.
"""

from keras_matting.models.alphagan.alphagan_generator import AlphaGANGenerator
from keras_matting.models.alphagan.patchgan_discriminator import PatchGANDiscriminator

__all__ = ["AlphaGAN", "AlphaGANGenerator", "PatchGANDiscriminator"]


def __getattr__(name):
    if name == "AlphaGAN":
        from keras_matting.models.alphagan.alphagan import AlphaGAN

        return AlphaGAN
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
