import os
import warnings

import cv2
import numpy as np
import pytest

from keras_matting import io
from keras_matting.errors import MattingInputError

LEMUR = os.path.join(os.path.dirname(__file__), "..", "examples", "lemur")


def _write_raw(path, array):
    """Write BGR(A)/gray data with OpenCV directly (independent of keras_matting.io)."""
    assert cv2.imwrite(str(path), array)
    return str(path)


def _rng():
    return np.random.default_rng(0)


# ----------------------------------------------------------------------------- read_image


def test_read_image_converts_bgr_to_rgb(tmp_path):
    bgr = _rng().integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = io.read_image(_write_raw(tmp_path / "a.png", bgr))
    assert image.dtype == np.float32 and image.shape == (5, 7, 3)
    np.testing.assert_allclose(image, bgr[..., ::-1] / 255.0, atol=1e-7)


def test_read_image_16_bit(tmp_path):
    bgr = _rng().integers(0, 65536, (4, 6, 3), dtype=np.uint16)
    image = io.read_image(_write_raw(tmp_path / "a.png", bgr))
    np.testing.assert_allclose(image, bgr[..., ::-1] / 65535.0, atol=1e-7)


def test_read_image_gray_is_replicated(tmp_path):
    gray = _rng().integers(0, 256, (4, 6), dtype=np.uint8)
    image = io.read_image(_write_raw(tmp_path / "g.png", gray))
    assert image.shape == (4, 6, 3)
    for c in range(3):
        np.testing.assert_allclose(image[..., c], gray / 255.0, atol=1e-7)


def test_read_image_rgba_transparent_warns_and_drops_alpha(tmp_path):
    bgra = _rng().integers(0, 256, (4, 6, 4), dtype=np.uint8)
    bgra[0, 0, 3] = 10
    path = _write_raw(tmp_path / "t.png", bgra)
    with pytest.warns(UserWarning, match="alpha channel"):
        image = io.read_image(path)
    np.testing.assert_allclose(image, bgra[..., 2::-1] / 255.0, atol=1e-7)


def test_read_image_opaque_rgba_is_silent(tmp_path):
    bgra = _rng().integers(0, 256, (4, 6, 4), dtype=np.uint8)
    bgra[..., 3] = 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = io.read_image(_write_raw(tmp_path / "o.png", bgra))
    assert image.shape == (4, 6, 3)


@pytest.mark.parametrize("ext", [".jpg", ".tif", ".webp", ".bmp"])
def test_read_image_formats(tmp_path, ext):
    bgr = np.full((8, 8, 3), (10, 128, 250), np.uint8)
    image = io.read_image(_write_raw(tmp_path / f"a{ext}", bgr))
    np.testing.assert_allclose(image[4, 4], [250 / 255, 128 / 255, 10 / 255], atol=0.02)


def test_read_image_arrays():
    rgb8 = _rng().integers(0, 256, (3, 4, 3), dtype=np.uint8)
    np.testing.assert_allclose(io.read_image(rgb8), rgb8 / 255.0, atol=1e-7)
    rgb16 = (rgb8.astype(np.uint16) * 257).astype(np.uint16)
    np.testing.assert_allclose(io.read_image(rgb16), rgb8 / 255.0, atol=1e-7)
    floats = _rng().random((3, 4))
    out = io.read_image(floats)
    assert out.shape == (3, 4, 3)
    np.testing.assert_allclose(out[..., 1], floats, atol=1e-7)
    with pytest.raises(MattingInputError, match=r"\[0, 1\]"):
        io.read_image(floats * 255)
    with pytest.raises(MattingInputError, match="dtype"):
        io.read_image(np.zeros((3, 4), np.int32))


def test_read_image_missing_file(tmp_path):
    path = str(tmp_path / "nope.png")
    with pytest.raises(MattingInputError, match="nope.png.*does not exist"):
        io.read_image(path)


def test_read_image_empty_and_garbage_files(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(MattingInputError, match="empty.png.*0 bytes"):
        io.read_image(empty)
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image at all")
    with pytest.raises(MattingInputError, match="cannot decode.*garbage.png"):
        io.read_image(garbage)
    with pytest.raises(MattingInputError, match="folder"):
        io.read_image(tmp_path)


# ----------------------------------------------------------------------------- read_trimap


def test_read_trimap_thresholds(tmp_path):
    values = np.array([[0, 84, 85, 128, 170, 171, 255]], np.uint8)
    trimap = io.read_trimap(_write_raw(tmp_path / "t.png", values))
    assert trimap.dtype == np.uint8
    np.testing.assert_array_equal(trimap, [[0, 0, 128, 128, 128, 255, 255]])


def test_read_trimap_16_bit_and_float():
    values16 = np.array([[0, 84 * 257, 85 * 257, 170 * 257, 170 * 257 + 1, 65535]], np.uint16)
    np.testing.assert_array_equal(io.read_trimap(values16), [[0, 0, 128, 128, 255, 255]])
    np.testing.assert_array_equal(io.read_trimap(np.array([[0.0, 0.5, 1.0]])), [[0, 128, 255]])


def test_read_trimap_rgb_uses_first_channel(tmp_path):
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = [[0, 128, 255], [255, 100, 0]]  # red channel
    rgb[..., 1:] = 7
    np.testing.assert_array_equal(io.read_trimap(rgb), [[0, 128, 255], [255, 128, 0]])
    path = _write_raw(tmp_path / "rgb.png", rgb[..., ::-1])  # stored as BGR
    np.testing.assert_array_equal(io.read_trimap(path), [[0, 128, 255], [255, 128, 0]])


def test_read_trimap_shipped_rgba_example():
    raw = cv2.imread(os.path.join(LEMUR, "trimap.png"), cv2.IMREAD_UNCHANGED)
    assert raw.ndim == 3 and raw.shape[2] == 4  # RGBA, unknown stored as 102
    trimap = io.read_trimap(os.path.join(LEMUR, "trimap.png"))
    assert set(np.unique(trimap)) == {0, 128, 255}
    np.testing.assert_array_equal(trimap == 128, raw[..., 0] == 102)


def test_read_trimap_size_mismatch_names_both(tmp_path):
    path = _write_raw(tmp_path / "tri.png", np.full((4, 6), 128, np.uint8))
    with pytest.raises(MattingInputError) as info:
        io.read_trimap(path, image_shape=(5, 6, 3), image_path="photo.jpg")
    message = str(info.value)
    assert "tri.png" in message and "photo.jpg" in message
    assert "6x4" in message and "6x5" in message and "\n" not in message


def test_read_trimap_without_unknown(tmp_path):
    path = _write_raw(tmp_path / "hard.png", np.array([[0, 255]], np.uint8))
    with pytest.raises(MattingInputError, match="hard.png.*no unknown pixel"):
        io.read_trimap(path)


# ----------------------------------------------------------------------------- mask, alpha


def test_read_mask_threshold_and_mismatch(tmp_path):
    path = _write_raw(tmp_path / "m.png", np.array([[0, 127, 128, 255]], np.uint8))
    mask = io.read_mask(path)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask, [[0, 0, 1, 1]])
    np.testing.assert_array_equal(io.read_mask(np.array([[0.5, 0.51]])), [[0, 1]])
    with pytest.raises(MattingInputError, match="m.png.*img.png"):
        io.read_mask(path, image_shape=(2, 4), image_path="img.png")


def test_read_alpha_8_and_16_bit(tmp_path):
    a8 = _rng().integers(0, 256, (3, 5), dtype=np.uint8)
    a16 = _rng().integers(0, 65536, (3, 5), dtype=np.uint16)
    np.testing.assert_allclose(
        io.read_alpha(_write_raw(tmp_path / "a.png", a8)), a8 / 255, atol=1e-7
    )
    np.testing.assert_allclose(
        io.read_alpha(_write_raw(tmp_path / "b.png", a16)), a16 / 65535, atol=1e-7
    )


# ----------------------------------------------------------------------------- writing


def test_quantize_rounds_half_up_and_clips():
    x = np.array([-0.5, 0.0, 0.2, 0.6, 1.0 / 510.0 + 1e-9, 0.999, 1.0, 2.0])
    np.testing.assert_array_equal(io.quantize(x, 8), [0, 0, 51, 153, 1, 255, 255, 255])
    assert io.quantize(np.array([1.0]), 16).dtype == np.uint16
    np.testing.assert_array_equal(io.quantize(np.array([65535, 257], np.uint16), 8), [255, 1])


@pytest.mark.parametrize("bits", [8, 16])
def test_write_alpha_round_trip(tmp_path, bits):
    alpha = _rng().random((6, 9)).astype(np.float32)
    path = io.write_alpha(tmp_path / "deep" / "er" / "a.png", alpha, bits=bits)
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert raw.dtype == (np.uint8 if bits == 8 else np.uint16) and raw.shape == (6, 9)
    full = 2**bits - 1
    np.testing.assert_array_equal(raw, np.floor(alpha.astype(np.float64) * full + 0.5))
    np.testing.assert_allclose(io.read_alpha(path), alpha, atol=0.5 / full + 1e-7)
    assert os.listdir(tmp_path / "deep" / "er") == ["a.png"]


def test_write_cutout_and_image(tmp_path):
    rgb = _rng().random((5, 4, 3))
    alpha = _rng().random((5, 4))
    path = io.write_cutout(tmp_path / "c.png", rgb, alpha)
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert raw.shape == (5, 4, 4) and raw.dtype == np.uint8
    np.testing.assert_array_equal(raw[..., 2::-1], io.quantize(rgb))
    np.testing.assert_array_equal(raw[..., 3], io.quantize(alpha))
    path = io.write_image(tmp_path / "i.png", rgb)
    np.testing.assert_allclose(io.read_image(path), io.quantize(rgb) / 255.0, atol=1e-7)
    with pytest.raises(MattingInputError, match="transparency"):
        io.write_cutout(tmp_path / "c.jpg", rgb, alpha)
    assert sorted(os.listdir(tmp_path)) == ["c.png", "i.png"]


def test_atomic_write_keeps_extension_and_replaces(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", spy)
    io.write_alpha(tmp_path / "x.png", np.zeros((2, 2)))
    assert len(seen) == 1 and seen[0].startswith(".x.tmp-") and seen[0].endswith(".png")
    assert os.listdir(tmp_path) == ["x.png"]


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    io.write_alpha(target, np.ones((2, 2)))
    before = target.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "replace", broken_replace)
    with pytest.raises(MattingInputError, match="cannot write.*keep.png"):
        io.write_alpha(target, np.zeros((2, 2)))
    with pytest.raises(MattingInputError, match="cannot write.*new.png"):
        io.write_alpha(tmp_path / "new.png", np.zeros((2, 2)))
    assert os.listdir(tmp_path) == ["keep.png"] and target.read_bytes() == before


def test_write_errors_are_one_line(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(MattingInputError, match="cannot write"):
        io.write_alpha(tmp_path / "file" / "a.png", np.zeros((2, 2)))
    with pytest.raises(MattingInputError, match="no extension"):
        io.write_alpha(tmp_path / "noext", np.zeros((2, 2)))
    with pytest.raises(MattingInputError, match="cannot encode"):
        io.write_alpha(tmp_path / "a.xyz", np.zeros((2, 2)))
    assert os.listdir(tmp_path) == ["file"]


# ----------------------------------------------------------------------------- hostile input


def _exif_app1(orientation):
    """A JPEG APP1 segment holding only the EXIF orientation tag (big-endian TIFF), by hand."""
    tiff = (
        b"MM\0*\0\0\0\x08"  # header, IFD0 at offset 8
        + b"\0\x01"  # one entry
        + b"\x01\x12\0\x03\0\0\0\x01" + orientation.to_bytes(2, "big") + b"\0\0"  # SHORT
        + b"\0\0\0\0"  # no next IFD
    )
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def _tagged_jpeg(path, rgb_stored, orientation):
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(rgb_stored[..., ::-1]),
                            [cv2.IMWRITE_JPEG_QUALITY, 100])
    assert ok
    data = data.tobytes()
    (path).write_bytes(data[:2] + _exif_app1(orientation) + data[2:])
    return str(path)


def test_exif_orientation_6_jpeg_is_read_as_viewers_show_it(tmp_path):
    shown = np.zeros((24, 16, 3), np.uint8)  # portrait as shown: 16 wide, 24 high
    shown[:8, :8] = 255  # white block top-left as the viewer shows it (JPEG-block aligned)
    stored = np.rot90(shown, 1)  # phones store it sideways; tag 6 = rotate 90 clockwise
    path = _tagged_jpeg(tmp_path / "portrait.jpg", stored, 6)
    image = io.read_image(path)
    assert image.shape == (24, 16, 3)
    assert np.abs(image * 255 - shown).max() < 40
    mask = io.read_mask(_tagged_jpeg(tmp_path / "m.jpg", stored, 6), image_shape=image.shape)
    np.testing.assert_array_equal(mask, shown[..., 0] > 127)


@pytest.mark.parametrize("ext", [".png", ".webp", ".jpg"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(tmp_path, ext, orientation):
    image_module = pytest.importorskip("PIL.Image")
    ops = pytest.importorskip("PIL.ImageOps")
    stored = _rng().integers(0, 256, (6, 9, 3), dtype=np.uint8)
    exif = image_module.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}{ext}"
    options = {".webp": {"lossless": True}, ".jpg": {"quality": 100}}.get(ext, {})
    image_module.fromarray(stored).save(path, exif=exif.tobytes(), **options)
    expected = np.asarray(ops.exif_transpose(image_module.open(path)).convert("RGB"))
    image = io.read_image(path)
    assert image.shape == expected.shape
    assert np.abs(image * 255 - expected).max() <= (40 if ext == ".jpg" else 0.5)


def test_truncated_png_and_jpeg_are_one_line_without_decoder_noise(tmp_path, capfd):
    noise = _rng().integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for ext in (".png", ".jpg"):
        full = tmp_path / f"full{ext}"
        _write_raw(full, noise)
        cut = tmp_path / f"cut{ext}"
        cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
        with pytest.raises(MattingInputError) as info:
            io.read_image(cut)
        message = str(info.value)
        assert f"cut{ext}" in message and "truncated" in message and "\n" not in message
        assert "use PNG" not in message
    assert capfd.readouterr().err == ""  # no "libpng error: ..." from the decoder


def test_read_image_names_what_it_reads(tmp_path):
    (tmp_path / "bg.png").write_bytes(b"garbage")
    with pytest.raises(MattingInputError, match="cannot decode background file.*bg.png"):
        io.read_image(tmp_path / "bg.png", what="background")


def _rgba_file(path, rgb, alpha):
    return _write_raw(path, np.dstack([rgb[..., ::-1], alpha]).astype(np.uint8))


def test_read_mask_white_with_transparency_uses_alpha(tmp_path):
    alpha = np.zeros((6, 8), np.uint8)
    alpha[1:5, 2:6] = 255
    path = _rgba_file(tmp_path / "white.png", np.full((6, 8, 3), 255, np.uint8), alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unambiguous: no warning
        mask = io.read_mask(path)
    np.testing.assert_array_equal(mask, alpha > 127)


def test_read_mask_cutout_uses_alpha_and_says_so(tmp_path):
    rgb = _rng().integers(0, 256, (6, 8, 3), dtype=np.uint8)
    rgb[2, 3] = (0, 0, 0)  # a dark pixel inside the object
    alpha = np.zeros((6, 8), np.uint8)
    alpha[1:5, 2:6] = 255
    path = _rgba_file(tmp_path / "cutout.png", rgb, alpha)
    with pytest.warns(UserWarning, match="cutout.png.*alpha channel is used as the mask"):
        mask = io.read_mask(path)
    np.testing.assert_array_equal(mask, alpha > 127)
    with pytest.warns(UserWarning, match="cutout"):
        np.testing.assert_allclose(io.read_alpha(path), alpha / 255.0)


def test_read_trimap_in_alpha_channel(tmp_path):
    levels = np.array([[0, 128, 255, 255]], np.uint8).repeat(2, 0)
    white = _rgba_file(tmp_path / "w.png", np.full((2, 4, 3), 255, np.uint8), levels)
    np.testing.assert_array_equal(io.read_trimap(white), levels)
    # painted on a transparent layer: gray where painted, transparent (any colour) = background
    painted = np.zeros((2, 4, 3), np.uint8)
    painted[:, 1] = 128
    painted[:, 2:] = 255
    painted[0, 0] = 255  # colour of a transparent pixel does not matter
    opaque = np.array([[0, 255, 255, 255]], np.uint8).repeat(2, 0)
    layer = _rgba_file(tmp_path / "layer.png", painted, opaque)
    np.testing.assert_array_equal(io.read_trimap(layer), levels)
    cutout = _rgba_file(tmp_path / "c.png", _rng().integers(0, 256, (2, 4, 3), dtype=np.uint8),
                        opaque)
    with pytest.raises(MattingInputError, match="c.png.*cutout.*opaque gray") as info:
        io.read_trimap(cutout)
    assert "\n" not in str(info.value)


