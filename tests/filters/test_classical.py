import numpy as np
import pymatting
import pytest

from keras_matting.filters.classical import closed_form_matting, knn_matting


def _composite(size=(14, 18)):
    h, w = size
    alpha = np.clip((np.arange(w) - 5) / 8.0, 0, 1)[None, :].repeat(h, 0)
    image = alpha[..., None] * np.array([0.9, 0.7, 0.2]) + (1 - alpha[..., None]) * np.array(
        [0.1, 0.3, 0.9]
    )
    trimap = np.full(size, 128, np.uint8)
    trimap[:, :4] = 0
    trimap[:, 14:] = 255
    return image, trimap, alpha


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (closed_form_matting, pymatting.estimate_alpha_cf),
        (knn_matting, pymatting.estimate_alpha_knn),
    ],
)
def test_wraps_pymatting(ours, theirs):
    image, trimap, alpha = _composite()
    result = ours(image, trimap)
    assert result.dtype == np.float32 and result.shape == trimap.shape
    reference = np.clip(theirs(image, trimap / 255.0), 0, 1)
    unknown = trimap == 128
    np.testing.assert_allclose(result[unknown], reference[unknown], atol=1e-6)
    # pymatting's KNN constrains known pixels softly; the wrapper sets them exactly
    assert np.all(result[trimap == 0] == 0) and np.all(result[trimap == 255] == 1)


def test_closed_form_recovers_a_two_colour_composite():
    image, trimap, alpha = _composite()
    # two constant colours satisfy the colour-line model exactly (Levin et al. 2008)
    assert np.abs(closed_form_matting(image, trimap) - alpha).max() < 0.02
    uint8 = closed_form_matting(np.round(image * 255).astype(np.uint8), trimap)
    assert np.abs(uint8 - alpha).max() < 0.03


def _ichol_retry_case():
    """A smooth ramp with one known pixel of each kind: pymatting's incomplete Cholesky
    fails at shift 0 and retries with a larger one, printing its PERFORMANCE WARNING."""
    ramp = np.linspace(0, 1, 48)[None, :].repeat(48, 0)
    trimap = np.full((48, 48), 128, np.uint8)
    trimap[0, 0], trimap[-1, -1] = 255, 0
    return np.dstack([ramp] * 3), trimap


def test_pymatting_performance_warning_stays_off_stdout(capsys, monkeypatch):
    from keras_matting.quiet import VERBOSE_ENV

    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    image, trimap = _ichol_retry_case()
    alpha = closed_form_matting(image, trimap)
    assert np.isfinite(alpha).all()
    assert capsys.readouterr().out == ""
    monkeypatch.setenv(VERBOSE_ENV, "1")  # verbose: everything shows again
    closed_form_matting(image, trimap)
    assert "PERFORMANCE WARNING" in capsys.readouterr().out
