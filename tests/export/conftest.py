"""Tiny generators (as in tests/models) and inputs shared by the export tests."""

import keras
import numpy as np
import pytest

from keras_matting.models.alphagan import AlphaGANGenerator
from keras_matting.models.backbones import DilatedResNetBackbone
from keras_matting.models.igf import IGFGenerator

IGF_TINY = {"encoder_channels": (4, 4, 4, 8, 8), "decoder_channels": (8, 4, 4)}


def randomize_bn(model, seed=0):
    """Non-trivial BN statistics so that exports are tested on more than identities."""
    rng = np.random.default_rng(seed)
    layers = model._flatten_layers(include_self=False, recursive=True)
    for layer in layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.1, c).astype("float32"))
    return model


def random_inputs(n, h, w, condition, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((n, h, w, 3)).astype("float32")
    if condition == "mask":
        guide = (rng.random((n, h, w, 1)) > 0.5).astype("float32")
    else:
        guide = rng.choice([0.0, 0.5, 1.0], size=(n, h, w, 1)).astype("float32")
    return image, guide


def keras_alpha(generator, image, guide):
    """Reference: the generator's own any-size inference (``predict_alpha``), (N, H, W, 1)."""
    alpha = np.asarray(generator.predict_alpha(image, guide), np.float32)
    return alpha.reshape(image.shape[:3] + (1,))


@pytest.fixture(scope="session")
def igf_generator():
    keras.utils.set_random_seed(0)
    return randomize_bn(IGFGenerator(**IGF_TINY))


@pytest.fixture(scope="session")
def igf_prior_generator():
    keras.utils.set_random_seed(0)
    generator = randomize_bn(IGFGenerator(**IGF_TINY, guided_filter_prior=True))
    head = generator.get_layer("phi_ab")
    head.kernel.assign(np.random.default_rng(0).normal(0, 0.05, head.kernel.shape))
    return generator


@pytest.fixture(scope="session")
def alphagan_generator():
    keras.utils.set_random_seed(0)
    generator = AlphaGANGenerator(
        backbone=DilatedResNetBackbone([4, 8], [1, 1], stem_filters=8),
        aspp_filters=8, aspp_dilation_rates=(2, 3, 4), skip_filters=(4, 4),
        decoder_filters=((8, 8, 8), (8, 8, 8), (4, 4)),
    )
    return randomize_bn(generator)


@pytest.fixture(scope="session", params=["igf", "igf_prior", "alphagan"])
def generator(request):
    return request.getfixturevalue(f"{request.param}_generator")
