"""IGFTFLite: the IGF's coefficients on LiteRT, the same alpha as the Keras model."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_matting.errors import MattingInputError
from keras_matting.export.calibration import calibration_sample
from keras_matting.export.tflite import export_tflite
from keras_matting.inference.high_resolution import predict_mask_reduced
from keras_matting.inference.igf_tflite import IGFTFLite
from keras_matting.models.igf import IGFGenerator
from tests.export.conftest import IGF_TINY, randomize_bn


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    keras.utils.set_random_seed(1)
    generator = randomize_bn(IGFGenerator(**IGF_TINY, guided_filter_prior=True,
                                          mask_band_radius=8))
    path = tmp_path_factory.mktemp("igf") / "coefficients.tflite"
    export_tflite(generator, path, output="coefficients")
    return generator, path


@pytest.mark.parametrize("size", [(70, 45), (96, 128), (300, 200)])
def test_alpha_matches_the_keras_model(tiny, size):
    generator, path = tiny
    image, mask, _ = calibration_sample(np.random.default_rng(size), "mask", size)
    mask = mask[..., 0]
    want = predict_mask_reduced(generator, image, mask)
    got = IGFTFLite(path, num_threads=1).predict_alpha(image, mask)
    assert got.shape == size and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_reduced_resolution_path_matches(tiny):
    generator, path = tiny
    image, mask, _ = calibration_sample(np.random.default_rng(7), "mask", (160, 240))
    mask = mask[..., 0]
    want = predict_mask_reduced(generator, image, mask, inference_side=96)
    got = predict_mask_reduced(IGFTFLite(path), image, mask, inference_side=96)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_runs_without_tensorflow(tiny):
    _, path = tiny
    code = (
        "import sys, numpy as np\n"
        "from keras_matting.inference.igf_tflite import IGFTFLite\n"
        f"m = IGFTFLite({str(path)!r})\n"
        "a = m.predict_alpha(np.random.rand(50, 60, 3), np.ones((50, 60)))\n"
        "assert a.shape == (50, 60)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_bad_files_are_one_line_errors(tmp_path, tiny):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(MattingInputError, match="not a LiteRT model"):
        IGFTFLite(bad)
    generator, _ = tiny
    alpha_model = tmp_path / "alpha.tflite"
    export_tflite(generator, alpha_model, size=(64, 64))
    with pytest.raises(MattingInputError, match="not an IGF coefficient model"):
        IGFTFLite(alpha_model)


def test_shipped_igf_runs_on_litert_with_the_same_alpha():
    from keras_matting.models.registry import load, load_inference

    runtime = load_inference("igf")
    assert isinstance(runtime, IGFTFLite)
    generator = load("igf")
    for seed, size in ((1, (200, 300)), (2, (333, 517))):
        image, mask, _ = calibration_sample(np.random.default_rng(seed), "mask", size)
        want = predict_mask_reduced(generator, image, mask[..., 0])
        got = runtime.predict_alpha(image, mask[..., 0])
        # measured max 6e-6 on these composites
        np.testing.assert_allclose(got, want, atol=1e-4)
