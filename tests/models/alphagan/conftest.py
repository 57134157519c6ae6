import numpy as np
import pytest

from keras_matting.models.alphagan import AlphaGAN, AlphaGANGenerator, PatchGANDiscriminator
from keras_matting.models.backbones import DilatedResNetBackbone


def make_tiny_generator(shallow=False):
    """Two backbone stages (stride 4, then stride 8) and narrow layers: fast on 2 CPU cores.

    ``shallow``: one dilated ASPP branch and one conv in deconv1_x / deconv4_x, for the
    training tests (XLA compile time on CPU grows with the number of convolutions).
    """
    return AlphaGANGenerator(
        backbone=DilatedResNetBackbone([4, 8], [1, 1], stem_filters=8),
        aspp_filters=8,
        aspp_dilation_rates=(2,) if shallow else (2, 3, 4),
        skip_filters=(4, 4),
        decoder_filters=((8,), (8, 8, 8), (4,)) if shallow else ((8, 8, 8), (8, 8, 8), (4, 4)),
    )


def make_tiny_alphagan(seed=0):
    return AlphaGAN(
        make_tiny_generator(shallow=True), PatchGANDiscriminator(filters=(8, 16)), seed=seed
    )


def make_batch(n=2, h=32, w=32, seed=0):
    rng = np.random.default_rng(seed)
    trimap = rng.choice([0.0, 0.5, 1.0], size=(n, h, w, 1)).astype("float32")
    alpha = rng.random((n, h, w, 1)).astype("float32")
    fg = rng.random((n, h, w, 3)).astype("float32")
    bg = rng.random((n, h, w, 3)).astype("float32")
    image = alpha * fg + (1 - alpha) * bg
    return {"image": image, "trimap": trimap, "alpha": alpha, "fg": fg, "bg": bg}


@pytest.fixture(scope="module")
def tiny_generator():
    return make_tiny_generator()
