"""Foreground estimation (keras_matting.inference.foreground): blur-fusion and "auto"."""

import cv2
import numpy as np
import pytest

from keras_matting.inference import foreground
from keras_matting.inference.foreground import (
    estimate_foreground,
    estimate_foreground_blur_fusion,
)


def _scene(h, w, seed):
    """Smooth random F and B (cubic-upsampled 4x4 / 3x3 colour grids), soft disc alpha."""
    rng = np.random.default_rng(seed)

    def field(cells):
        low = rng.random((cells, cells, 3)).astype(np.float32)
        return np.clip(cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)

    fg, bg = field(4), field(3)
    yy, xx = np.mgrid[:h, :w]
    alpha = np.clip((h / 3 - np.hypot(yy - h / 2, xx - w / 2)) / 6 + 0.5, 0, 1)
    alpha = alpha.astype(np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), alpha, fg


def test_blur_fusion_recovers_smooth_foreground():
    # Measured on these 6 scenes (120x160): mean F error 0.0757 (per scene 0.062-0.089)
    # against 0.1247 for the naive F = I, over the soft pixels 0.05 < alpha < 1.
    # Bounds leave ~10% slack; the pymatting / TF multi-level estimators reach ~0.05.
    errors, naive = [], []
    for seed in range(6):
        image, alpha, fg = _scene(120, 160, seed)
        estimate = estimate_foreground_blur_fusion(image, alpha)
        soft = (alpha > 0.05) & (alpha < 1)
        errors.append(np.abs(estimate - fg)[soft].mean())
        naive.append(np.abs(image - fg)[soft].mean())
    assert np.mean(errors) < 0.085, errors
    assert np.mean(errors) < 0.7 * np.mean(naive), (errors, naive)


def test_blur_fusion_is_exact_where_opaque_and_in_range():
    rng = np.random.default_rng(1)
    image = rng.random((50, 70, 3)).astype(np.float32)
    alpha = np.clip(rng.random((50, 70)) * 2 - 0.5, 0, 1).astype(np.float32)
    alpha[10:30, 20:50] = 1.0
    fg, bg = estimate_foreground_blur_fusion(image, alpha, return_background=True)
    opaque = alpha == 1
    np.testing.assert_allclose(fg[opaque], image[opaque], atol=1e-6)
    clear = alpha == 0
    np.testing.assert_allclose(bg[clear], image[clear], atol=1e-6)
    assert fg.min() >= 0 and fg.max() <= 1


def test_blur_fusion_shapes_and_dtypes():
    image = np.random.default_rng(2).random((33, 47, 3))  # float64 in, float32 out
    alpha = np.linspace(0, 1, 33 * 47).reshape(33, 47, 1)  # (H, W, 1) accepted
    fg = estimate_foreground(image, alpha, method="blur-fusion")
    assert fg.shape == (33, 47, 3) and fg.dtype == np.float32
    fg2, bg = estimate_foreground_blur_fusion(image, alpha, return_background=True)
    assert bg.shape == fg2.shape == (33, 47, 3) and bg.dtype == np.float32
    np.testing.assert_array_equal(fg, fg2)
    pixel = np.full((1, 1, 3), 0.4, np.float32)
    np.testing.assert_allclose(estimate_foreground(pixel, np.full((1, 1), 0.5)), pixel)
    with pytest.raises(ValueError, match="blur-fusion"):
        estimate_foreground(image, alpha, method="nope")


def test_auto_is_the_documented_choice():
    assert foreground.AUTO_METHOD == "blur-fusion"
    assert '``"auto"`` (the default) uses blur-fusion' in " ".join(foreground.__doc__.split())
    image, alpha, _ = _scene(40, 56, 0)
    np.testing.assert_array_equal(
        estimate_foreground(image, alpha), estimate_foreground(image, alpha, "blur-fusion")
    )


def test_numba_compile_message_once_before_pymatting(monkeypatch, capsys):
    monkeypatch.setattr(foreground, "_ANNOUNCED", False)
    monkeypatch.setattr(foreground, "_numba_cache_is_empty", lambda: True)
    monkeypatch.delitem(__import__("sys").modules, "pymatting", raising=False)
    foreground._announce_numba_compile()
    foreground._announce_numba_compile()
    assert capsys.readouterr().err == foreground.NUMBA_MESSAGE + "\n"


def test_numba_cache_probe_honours_numba_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert foreground._numba_cache_is_empty()
    sub = tmp_path / "pymatting" / "foreground"
    sub.mkdir(parents=True)
    (sub / "estimate_foreground_ml._estimate_fb_ml-61.py311.nbi").write_bytes(b"")
    assert not foreground._numba_cache_is_empty()
