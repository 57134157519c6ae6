import keras
import numpy as np
import pytest

from keras_matting.models.igf import IGFDiscriminator

PAPER_DISCRIMINATOR_PARAMS = 400_990


def trainable_params(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def test_default_matches_paper_parameter_count():
    disc = IGFDiscriminator()
    count = trainable_params(disc)
    assert count == 392_761  # layer table in the class docstring
    assert abs(count - PAPER_DISCRIMINATOR_PARAMS) / PAPER_DISCRIMINATOR_PARAMS < 0.10
    wrapped = [layer for layer in disc.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    convs = [layer for layer in disc.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(wrapped) == 5 and not convs  # every convolution is spectrally normalised
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in disc.layers) == 3


def test_patch_output_shape():
    disc = IGFDiscriminator(filters=4, num_layers=3)
    scores = disc(np.zeros((2, 64, 48, 5), "float32"))
    assert scores.shape == (2, 16, 12, 1)


def test_spectral_normalisation_bounds_the_kernel_norm():
    disc = IGFDiscriminator(filters=4, num_layers=2)
    x = np.random.default_rng(0).random((2, 32, 32, 5)).astype("float32")
    for _ in range(20):  # power iterations converge across training calls
        disc(x, training=True)
    sn = disc.get_layer("d2_sn")
    kernel = keras.ops.convert_to_numpy(sn.layer.kernel)
    sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_spectral_normalisation_stays_float32_under_mixed_policies(policy):
    # A 1-channel kernel (the score layer) is normalised exactly by one power iteration:
    # sigma = |W|. In float32 that is 1 to 1e-6; computed in float16 it was 0.86-0.98.
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        disc = IGFDiscriminator(filters=4, num_layers=2)
    finally:
        keras.config.set_dtype_policy(previous)
    x = np.random.default_rng(0).random((2, 32, 32, 5)).astype("float32")
    scores = keras.ops.convert_to_numpy(disc(x, training=True))
    assert np.isfinite(scores).all()
    layers = [layer for layer in disc.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert all(layer.compute_dtype == "float32" for layer in layers)
    assert layers[0].layer.compute_dtype == policy.split("_")[1]  # the convolution is mixed
    kernel = keras.ops.convert_to_numpy(layers[-1].layer.kernel)
    assert kernel.shape[-1] == 1
    assert np.linalg.norm(kernel) == pytest.approx(1.0, abs=1e-4)


def test_keras_round_trip(tmp_path):
    disc = IGFDiscriminator(filters=4, num_layers=2)
    x = np.random.default_rng(0).random((2, 32, 32, 5)).astype("float32")
    disc(x, training=True)  # move u vectors and BN statistics away from their init
    path = tmp_path / "igf_discriminator.keras"
    disc.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, IGFDiscriminator)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(disc(x))
    )


def test_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match="5 channels"):
        IGFDiscriminator(input_shape=(None, None, 4))
