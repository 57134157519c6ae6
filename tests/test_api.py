import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import keras_matting
from keras_matting.api import trimap_from_mask
from keras_matting.errors import MattingInputError
from keras_matting.models import registry


def _scene(h=40, w=56, seed=0):
    """Composite of a smooth foreground over a smooth background with a soft disc alpha."""
    rng = np.random.default_rng(seed)
    fg = cv2.resize(rng.random((4, 4, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    bg = cv2.resize(rng.random((3, 3, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fg, bg = np.clip(fg, 0, 1), np.clip(bg, 0, 1)
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    alpha = np.clip((h / 3 - r) / 6 + 0.5, 0, 1).astype(np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.full((h, w), 128, np.uint8)
    trimap[alpha == 0] = 0
    trimap[alpha == 1] = 255
    return image.astype(np.float32), alpha, fg, trimap


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from keras_matting.models.alphagan import AlphaGANGenerator
    from keras_matting.models.backbones.dilated_resnet_backbone import DilatedResNetBackbone
    from keras_matting.models.igf import IGF, IGFDiscriminator, IGFGenerator

    root = tmp_path_factory.mktemp("models")
    alphagan = AlphaGANGenerator(
        backbone=DilatedResNetBackbone([4, 4, 8, 8], [1, 1, 1, 1], stem_filters=8),
        aspp_filters=8, skip_filters=(4, 4), decoder_filters=((8, 8, 8), (8, 8, 8), (4, 4)),
    )
    igf = IGFGenerator(encoder_channels=(4, 4, 4, 4, 8), decoder_channels=(4, 4, 4))
    paths = {
        "alphagan": str(root / "alphagan.keras"),
        "trainer": str(root / "trainer.keras"),
        "igf": str(root / "igf.keras"),
    }
    alphagan.save(paths["alphagan"])
    IGF(generator=igf, discriminator=IGFDiscriminator(filters=4, num_layers=2)).save(
        paths["trainer"]
    )
    igf.save(paths["igf"])
    return paths, alphagan, igf


def test_import_is_light_and_api_is_lazy():
    code = (
        "import sys, keras_matting; assert 'tensorflow' not in sys.modules; "
        "assert 'keras' not in sys.modules; print(callable(keras_matting.matte), "
        "callable(keras_matting.load), 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"]
    assert {"matte", "load", "cutout", "composite", "estimate_foreground"} <= set(dir(keras_matting))


@pytest.mark.slow
def test_load_path_generator_trainer_and_cache(tiny_models):
    paths, _, _ = tiny_models
    from keras_matting.models.alphagan import AlphaGANGenerator
    from keras_matting.models.igf import IGFGenerator

    first = keras_matting.load(paths["alphagan"])
    assert isinstance(first, AlphaGANGenerator)
    assert keras_matting.load(paths["alphagan"]) is first  # cached
    assert isinstance(keras_matting.load(paths["trainer"]), IGFGenerator)  # trainer.generator
    igf = keras_matting.load(paths["igf"])
    assert isinstance(igf, IGFGenerator)
    assert registry.condition_of(first) == "trimap" and registry.condition_of(igf) == "mask"


def test_load_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "SAVED_MODELS_DIR", str(tmp_path / "none"))
    with pytest.raises(MattingInputError, match="no shipped 'igf' model in this install yet"):
        keras_matting.load("igf")
    with pytest.raises(MattingInputError, match="neither a known name"):
        keras_matting.load(str(tmp_path / "missing.keras"))
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(MattingInputError, match="cannot load model") as info:
        keras_matting.load(str(bad))
    assert "\n" not in str(info.value)


def test_shipped_models_live_in_package_assets():
    path = registry.shipped_model_path("igf")
    assert path.endswith(os.path.join("keras_matting", "saved_models", "igf.keras"))
    assert os.path.isfile(path)


def test_alphagan_is_not_shipped_and_the_error_says_what_to_do():
    shipped = os.listdir(registry.SAVED_MODELS_DIR)
    assert not [f for f in shipped if f.startswith("alphagan")], shipped
    image, _, _, trimap = _scene()
    for call in (lambda: keras_matting.load("alphagan"),
                 lambda: keras_matting.matte(image, trimap=trimap, model="alphagan")):
        with pytest.raises(MattingInputError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message
        assert "keras-matting train alphagan --fg-dir" in message and ".keras file" in message
    assert registry.condition_of("alphagan") == "trimap"


def test_default_model_is_the_best_for_the_guidance_given():
    image, alpha, _, trimap = _scene()
    mask = (alpha > 0.5).astype(np.float32)
    np.testing.assert_array_equal(keras_matting.matte(image, mask=mask),
                                  keras_matting.matte(image, mask=mask, model="igf"))
    with pytest.raises(MattingInputError, match="no guidance for the image: pass a trimap"):
        keras_matting.matte(image)
    pytest.importorskip("pymatting")
    np.testing.assert_array_equal(keras_matting.matte(image, trimap=trimap),
                                  keras_matting.matte(image, trimap=trimap, model="closed-form"))
    np.testing.assert_array_equal(
        keras_matting.matte(image, mask=mask, trimap_from_mask_px=3),
        keras_matting.matte(image, mask=mask, trimap_from_mask_px=3, model="closed-form"))


def test_matte_igf_path_matches_generator(tiny_models):
    paths, _, igf = tiny_models
    image, alpha, _, trimap = _scene()
    mask = (alpha > 0.5).astype(np.float32)
    result = keras_matting.matte(image, mask=mask, model=paths["igf"])
    reference = igf.predict_alpha(image, mask)
    assert result.shape == alpha.shape and result.dtype == np.float32
    np.testing.assert_allclose(result, reference, atol=1e-5)


@pytest.mark.slow
def test_matte_alphagan_respects_known_regions(tiny_models, tmp_path):
    paths, _, _ = tiny_models
    image, _, _, trimap = _scene()
    cv2.imwrite(str(tmp_path / "t.png"), trimap)
    result = keras_matting.matte(image, trimap=str(tmp_path / "t.png"), model=paths["alphagan"])
    assert np.all(result[trimap == 0] == 0) and np.all(result[trimap == 255] == 1)
    assert 0 <= result.min() and result.max() <= 1


def test_matte_closed_form_close_to_truth():
    pytest.importorskip("pymatting")
    image, alpha, _, trimap = _scene()
    result = keras_matting.matte(image, trimap=trimap, model="closed-form")
    assert np.abs(result - alpha)[trimap == 128].mean() < 0.12  # a constant 0.5 scores 0.3
    assert np.all(result[trimap == 0] == 0) and np.all(result[trimap == 255] == 1)


def test_matte_needs_trimap_or_trimap_from_mask():
    image, alpha, _, _ = _scene()
    mask = (alpha > 0.5).astype(np.float32)
    with pytest.raises(MattingInputError, match="trimap-from-mask"):
        keras_matting.matte(image, mask=mask, model="knn")
    with pytest.raises(MattingInputError, match="needs a mask"):
        keras_matting.matte(image, trimap=np.full(mask.shape, 128, np.uint8), model="guided-filter")
    out = keras_matting.matte(image, mask=mask, model="guided-filter", max_side=20)
    assert out.shape == mask.shape and 0 <= out.min() and out.max() <= 1


def test_trimap_from_mask_band():
    mask = np.zeros((41, 41), np.float32)
    mask[10:31, 10:31] = 1
    trimap = trimap_from_mask(mask, 3)
    assert trimap[20, 20] == 1 and trimap[0, 0] == 0
    row = trimap[20]
    assert np.all(row[7:13] == 0.5) and row[6] == 0 and row[13] == 1  # 3 px each side
    with pytest.raises(MattingInputError, match="empty"):
        trimap_from_mask(np.zeros((5, 5)), 2)


@pytest.mark.parametrize("method", ["pymatting", "tensorflow"])
def test_estimate_foreground_recovers_true_foreground(method):
    if method == "pymatting":
        pytest.importorskip("pymatting")
    image, alpha, fg, _ = _scene(60, 80)
    estimate = keras_matting.estimate_foreground(image, alpha, method=method)
    region = alpha > 0.3
    error = np.abs(estimate - fg)[region].mean()
    raw_error = np.abs(image - fg)[region].mean()
    assert error < 0.5 * raw_error, (error, raw_error)
    assert estimate.shape == image.shape and estimate.dtype == np.float32


def test_cutout_uses_estimated_foreground_and_composite():
    image, alpha, fg, _ = _scene(60, 80)
    rgba = keras_matting.cutout(image, alpha)
    assert rgba.shape == (60, 80, 4) and rgba.dtype == np.float32
    np.testing.assert_allclose(rgba[..., 3], alpha)
    soft = (alpha > 0.2) & (alpha < 0.8)
    assert np.abs(rgba[..., :3] - fg)[soft].mean() < np.abs(image - fg)[soft].mean()

    green = keras_matting.composite(alpha, rgba[..., :3], "#00ff00")
    a = alpha[..., None]
    np.testing.assert_allclose(green, a * rgba[..., :3] + (1 - a) * np.float32([0, 1, 0]),
                               atol=1e-6)
    background = np.zeros((10, 30, 3), np.float32)
    background[:, 15:] = 1  # cover-resized to 80x... then centre-cropped: left half dark
    out = keras_matting.composite(alpha, rgba[..., :3], background)
    assert out.shape == image.shape
    assert out[0, 0].max() == 0 and out[0, -1].min() == 1
    with pytest.raises(MattingInputError, match="RRGGBB"):
        keras_matting.composite(alpha, image, "#12345")


def test_odd_image_formats(tmp_path):
    image, alpha, _, _ = _scene()
    mask = ((alpha > 0.5) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    u16 = np.round(image[..., ::-1] * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "16.png"), u16)
    cv2.imwrite(str(tmp_path / "gray.png"), np.round(image[..., 0] * 255).astype(np.uint8))
    rgba = np.dstack([np.round(image[..., ::-1] * 255).astype(np.uint8), np.full(mask.shape, 255, np.uint8)])
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    for name in ("16.png", "gray.png", "rgba.png"):
        out = keras_matting.matte(str(tmp_path / name), mask=str(tmp_path / "m.png"), model="guided-filter")
        assert out.shape == mask.shape


def test_cmyk_jpeg_is_decoded_to_rgb(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:, :8] = (200, 40, 30)
    rgb[:, 8:] = (20, 60, 220)
    pil.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    from keras_matting.io import read_image

    decoded = read_image(str(tmp_path / "cmyk.jpg"))
    assert np.abs(decoded * 255 - rgb).mean() < 12


def test_load_truncated_and_unsafe_files_say_what_is_wrong(tmp_path, tiny_models):
    import keras

    paths, _, _ = tiny_models
    data = open(paths["igf"], "rb").read()
    cut = tmp_path / "cut.keras"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MattingInputError) as info:
        keras_matting.load(str(cut))
    message = str(info.value)
    assert "cut.keras" in message and "truncated or corrupt" in message
    assert "File not found" not in message and "\n" not in message
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lam.keras")
    with pytest.raises(MattingInputError) as info:
        keras_matting.load(str(tmp_path / "lam.keras"))
    message = str(info.value)
    assert "Lambda layer" in message and "safe_mode=False" in message
    assert message.endswith("pass the model object") and "\n" not in message  # not cut


def test_matte_refuses_empty_mask_and_trimaps_without_known_pixels():
    image, alpha, _, trimap = _scene()
    with pytest.raises(MattingInputError, match="mask <array> .*no foreground pixel"):
        keras_matting.matte(image, mask=np.zeros(alpha.shape), model="guided-filter")
    pytest.importorskip("pymatting")
    no_fg = np.where(trimap == 255, 128, trimap).astype(np.uint8)
    with pytest.raises(MattingInputError, match="trimap <array> .*no foreground pixel.*knn"):
        keras_matting.matte(image, trimap=no_fg, model="knn")
    with pytest.raises(MattingInputError, match="derived from mask <array>.*no background"):
        keras_matting.matte(image, mask=np.ones(alpha.shape), model="closed-form",
                            trimap_from_mask_px=2)


def test_one_pixel_foreground_and_cutout():
    pixel = np.full((1, 1, 3), 0.4, np.float32)
    for method in ("pymatting", "tensorflow"):
        if method == "pymatting":
            pytest.importorskip("pymatting")
        fg = keras_matting.estimate_foreground(pixel, np.full((1, 1), 0.5), method=method)
        np.testing.assert_allclose(fg, pixel)
    assert keras_matting.cutout(pixel, np.ones((1, 1))).shape == (1, 1, 4)
