"""AlphaGAN (Lutz et al., BMVC 2018): generator, PatchGAN discriminator, trainer, losses."""

from keras_matting.models.alphagan.alphagan import AlphaGAN
from keras_matting.models.alphagan.alphagan_generator import AlphaGANGenerator
from keras_matting.models.alphagan.patchgan_discriminator import PatchGANDiscriminator

__all__ = ["AlphaGAN", "AlphaGANGenerator", "PatchGANDiscriminator"]
