import os
import sys
import time

import cv2
import numpy as np
import pytest

from keras_matting.cli import predict


def _example(root, size=(16, 20)):
    h, w = size
    alpha = np.clip((np.arange(w) - 6) / 8.0, 0, 1)[None, :].repeat(h, 0)
    fg, bg = np.array([0.9, 0.6, 0.1]), np.array([0.1, 0.2, 0.8])
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.full(size, 128, np.uint8)
    trimap[:, :5] = 0
    trimap[:, 15:] = 255
    cv2.imwrite(str(root / "photo.png"), np.round(image[..., ::-1] * 255).astype(np.uint8))
    cv2.imwrite(str(root / "tri.png"), trimap)
    return alpha, trimap


@pytest.mark.parametrize("bits", [8, 16])
def test_closed_form_writes_alpha(tmp_path, capsys, bits):
    alpha, trimap = _example(tmp_path)
    args = [
        "--model",
        "closed-form",
        "--image",
        str(tmp_path / "photo.png"),
        "--trimap",
        str(tmp_path / "tri.png"),
        "--out",
        str(tmp_path / "out"),
        "--bits",
        str(bits),
    ]
    assert predict.main(args) == 0
    assert "photo.png" in capsys.readouterr().out
    assert os.listdir(tmp_path / "out") == ["photo.png"]
    raw = cv2.imread(str(tmp_path / "out" / "photo.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == (np.uint8 if bits == 8 else np.uint16)
    result = raw / (2.0**bits - 1)
    np.testing.assert_array_equal(result[trimap == 0], 0)
    np.testing.assert_array_equal(result[trimap == 255], 1)
    assert np.abs(result - alpha)[trimap == 128].max() < 0.05


def test_size_mismatch_exit_2(tmp_path, capsys):
    _example(tmp_path)
    cv2.imwrite(str(tmp_path / "tri.png"), np.full((3, 3), 128, np.uint8))
    args = [
        "--model",
        "knn",
        "--image",
        str(tmp_path / "photo.png"),
        "--trimap",
        str(tmp_path / "tri.png"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert predict.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tri.png" in err and "photo.png" in err
    assert not os.path.exists(tmp_path / "out")


def test_missing_pymatting_says_how_to_install(tmp_path, capsys, monkeypatch):
    _example(tmp_path)
    monkeypatch.setitem(sys.modules, "pymatting", None)
    args = [
        "--model",
        "closed-form",
        "--image",
        str(tmp_path / "photo.png"),
        "--trimap",
        str(tmp_path / "tri.png"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert predict.main(args) == 2
    assert 'pip install "keras-matting[baselines]"' in capsys.readouterr().err


@pytest.mark.parametrize("model, words", [
    ("nope", ("neither a known name", "guided-filter")),
    ("alphagan", ("no trained 'alphagan' ships", "keras-matting train alphagan", ".keras")),
])
def test_unknown_or_unshipped_model_is_one_line_exit_2(tmp_path, capsys, model, words):
    _example(tmp_path)
    args = ["--model", model, "--image", str(tmp_path / "photo.png"), "--trimap",
            str(tmp_path / "tri.png"), "--out", str(tmp_path / "out")]
    assert predict.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(w in err for w in words), err
    assert not os.path.exists(tmp_path / "out")


# --------------------------------------------------------------------------- full tool


def _write_rgb(path, image):
    cv2.imwrite(str(path), np.round(np.asarray(image)[..., ::-1] * 255).astype(np.uint8))


def _disc(h=24, w=32):
    yy, xx = np.mgrid[:h, :w]
    alpha = np.clip((8 - np.hypot(yy - h / 2, xx - w / 2)) / 3 + 0.5, 0, 1)
    image = alpha[..., None] * np.array([0.9, 0.5, 0.2]) + (1 - alpha[..., None]) * 0.2
    mask = ((alpha > 0.5) * 255).astype(np.uint8)
    return image, alpha, mask


def _run(capsys, *args):
    code = predict.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_folder_with_a_bad_file(tmp_path, capsys):
    (tmp_path / "img").mkdir()
    (tmp_path / "msk").mkdir()
    image, _, mask = _disc()
    for stem in ("a", "b"):
        _write_rgb(tmp_path / "img" / f"{stem}.png", image)
        cv2.imwrite(str(tmp_path / "msk" / f"{stem}.png"), mask)
    (tmp_path / "img" / "bad.png").write_bytes(b"not an image")
    cv2.imwrite(str(tmp_path / "msk" / "bad.png"), mask)
    _write_rgb(tmp_path / "img" / "nomask.jpg", image)
    code, out, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "img", "--mask",
        tmp_path / "msk", "--out", tmp_path / "out",
    )
    assert code == 1
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.png"]  # no temporary files
    assert "2 ok, 2 failed" in out and "bad" in out
    lines = [line for line in err.splitlines() if line.startswith("keras-matting")]
    assert len(lines) == 2 and "bad.png" in lines[0] and "Traceback" not in err
    assert "no mask named 'nomask.*'" in err


def test_every_output_kind(tmp_path, capsys):
    image, alpha, mask = _disc()
    _write_rgb(tmp_path / "x.png", image)
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    background = np.zeros((12, 16, 3))
    background[..., 2] = 1  # blue image
    _write_rgb(tmp_path / "bg.png", background)
    for bits, bg, out in ((16, "#ff0000", "o1"), (8, tmp_path / "bg.png", "o2")):
        code, _, err = _run(
            capsys, "--model", "guided-filter", "--image", tmp_path / "x.png", "--mask",
            tmp_path / "m.png", "--out", tmp_path / out, "--cutout", "--background", bg,
            "--bits", bits,
        )
        assert code == 0, err
        folder = tmp_path / out
        assert sorted(os.listdir(folder)) == ["x.png", "x_composite.png", "x_cutout.png"]
        raw = cv2.imread(str(folder / "x.png"), cv2.IMREAD_UNCHANGED)
        assert raw.dtype == (np.uint16 if bits == 16 else np.uint8) and raw.shape == mask.shape
        cut = cv2.imread(str(folder / "x_cutout.png"), cv2.IMREAD_UNCHANGED)
        assert cut.shape == mask.shape + (4,)
        a8 = np.round(raw / (2.0**bits - 1) * 255)
        assert np.abs(cut[..., 3] - a8).max() <= 1
        comp = cv2.imread(str(folder / "x_composite.png"))[..., ::-1]
        expected = [255, 0, 0] if bits == 16 else [0, 0, 255]
        np.testing.assert_allclose(comp[a8 == 0], np.tile(expected, ((a8 == 0).sum(), 1)), atol=1)


def test_mask_auto_runs(tmp_path, capsys):
    lemur = cv2.imread(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "lemur", "image.png"))
    cv2.imwrite(str(tmp_path / "p.png"), cv2.resize(lemur, (136, 88)))
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "p.png", "--mask", "auto",
        "--out", tmp_path / "out",
    )
    assert code == 0, err
    assert err == ""  # LiteRT's INFO line is silenced
    alpha = cv2.imread(str(tmp_path / "out" / "p.png"), cv2.IMREAD_UNCHANGED)
    assert alpha.shape == (88, 136) and alpha.max() > 128


def test_trimap_from_mask_and_missing_trimap(tmp_path, capsys):
    pytest.importorskip("pymatting")
    image, alpha, mask = _disc()
    _write_rgb(tmp_path / "x.png", image)
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    common = ["--model", "closed-form", "--image", tmp_path / "x.png", "--mask", tmp_path / "m.png",
              "--out", tmp_path / "out"]
    code, _, err = _run(capsys, *common)
    assert code == 2 and err.count("\n") == 1 and "--trimap-from-mask" in err
    code, _, err = _run(capsys, *common, "--trimap-from-mask", 3)
    assert code == 0, err
    result = cv2.imread(str(tmp_path / "out" / "x.png"), 0) / 255.0
    assert np.abs(result - alpha).mean() < 0.1


@pytest.fixture(scope="module")
def tiny_paths(tmp_path_factory):
    from keras_matting.models.alphagan import AlphaGANGenerator
    from keras_matting.models.backbones.dilated_resnet_backbone import DilatedResNetBackbone
    from keras_matting.models.igf import IGFGenerator

    root = tmp_path_factory.mktemp("tiny")
    AlphaGANGenerator(
        backbone=DilatedResNetBackbone([4, 4, 8, 8], [1, 1, 1, 1], stem_filters=8),
        aspp_filters=8, skip_filters=(4, 4), decoder_filters=((8, 8, 8), (8, 8, 8), (4, 4)),
    ).save(root / "alphagan.keras")
    IGFGenerator(encoder_channels=(4, 4, 4, 4, 8), decoder_channels=(4, 4, 4)).save(root / "igf.keras")
    return root


@pytest.mark.slow
def test_model_paths_and_known_regions(tmp_path, capsys, tiny_paths):
    alpha, trimap = _example(tmp_path)
    code, _, err = _run(
        capsys, "--model", tiny_paths / "alphagan.keras", "--image", tmp_path / "photo.png",
        "--trimap", tmp_path / "tri.png", "--out", tmp_path / "a", "--max-side", 12,
    )
    assert code == 0, err
    result = cv2.imread(str(tmp_path / "a" / "photo.png"), 0)
    assert np.all(result[trimap == 0] == 0) and np.all(result[trimap == 255] == 255)
    cv2.imwrite(str(tmp_path / "m.png"), (trimap > 128).astype(np.uint8) * 255)
    code, _, err = _run(
        capsys, "--model", tiny_paths / "igf.keras", "--image", tmp_path / "photo.png",
        "--mask", tmp_path / "m.png", "--out", tmp_path / "b",
    )
    assert code == 0, err
    code, _, err = _run(
        capsys, "--model", tiny_paths / "igf.keras", "--image", tmp_path / "photo.png",
        "--trimap", tmp_path / "tri.png", "--out", tmp_path / "c",
    )
    assert code == 2 and "needs a mask" in err and not os.path.exists(tmp_path / "c")


@pytest.mark.parametrize(
    "case,message",
    [
        ("missing", "does not exist"),
        ("empty", "empty (0 bytes)"),
        ("no_unknown", "no unknown pixel"),
        ("not_a_model", "not a .keras file"),
        ("overwrite", "overwrite an input"),
        ("bad_colour", "#RRGGBB"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, capsys, case, message):
    _example(tmp_path)
    model, image, out, extra = "knn", tmp_path / "photo.png", tmp_path / "out", []
    if case == "missing":
        image = tmp_path / "nope.png"
    elif case == "empty":
        (tmp_path / "empty.png").write_bytes(b"")
        image = tmp_path / "empty.png"
    elif case == "no_unknown":
        cv2.imwrite(str(tmp_path / "tri.png"), np.full((16, 20), 255, np.uint8))
    elif case == "not_a_model":
        model = str(tmp_path / "tri.png")
    elif case == "overwrite":
        out = tmp_path
    elif case == "bad_colour":
        extra = ["--background", "#12"]
    code, _, err = _run(
        capsys, "--model", model, "--image", image, "--trimap", tmp_path / "tri.png",
        "--out", out, *extra,
    )
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err and not os.path.exists(tmp_path / "out")


def test_rgba_image_warns_on_one_line(tmp_path, capsys):
    image, _, mask = _disc()
    rgba = np.dstack([np.round(image[..., ::-1] * 255), np.full(mask.shape, 100)]).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "x.png"), rgba)
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "x.png", "--mask",
        tmp_path / "m.png", "--out", tmp_path / "out",
    )
    assert code == 0
    assert err.count("\n") == 1 and "transparent alpha channel" in err
    # --cutout reads the image a second time: still one line
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "x.png", "--mask",
        tmp_path / "m.png", "--out", tmp_path / "out2", "--cutout",
    )
    assert code == 0
    assert err.count("\n") == 1 and "transparent alpha channel" in err, err


MEMORY_CHILD = r"""
import os, resource, sys
import cv2, numpy as np
h, w = 3000, 4000
rng = np.random.default_rng(0)
image = (cv2.resize(rng.random((30, 40, 3)).astype(np.float32), (w, h)) * 255).astype(np.uint8)
mask = np.zeros((h, w), np.uint8)
cv2.circle(mask, (w // 2, h // 2), 1000, 255, -1)
cv2.imwrite(sys.argv[1] + "/big.jpg", image)
cv2.imwrite(sys.argv[1] + "/mask.png", mask)
del image, mask
from keras_matting.cli import predict
import keras_matting.api, keras_matting.filters.guided_filter  # noqa
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
code = predict.main(["--model", "guided-filter", "--image", sys.argv[1] + "/big.jpg",
                     "--mask", sys.argv[1] + "/mask.png", "--out", sys.argv[1] + "/out"])
print(code, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
"""


@pytest.mark.slow
def test_4000x3000_with_bounded_memory(tmp_path):
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(tmp_path)], capture_output=True, text=True,
        check=True,
    ).stdout.split()
    code, increase_mb = int(out[-2]), float(out[-1])
    assert code == 0
    # 12 MP: the float32 image alone is 137 MB; measured +845 MB (reading through int64 /
    # float64 in io.read_image, the float64 guided filter at full size)
    assert increase_mb < 1500
    alpha = cv2.imread(str(tmp_path / "out" / "big.png"), 0)
    assert alpha.shape == (3000, 4000)


# --------------------------------------------------------------------------- hostile input


def _exif6_jpeg(path, shown_rgb):
    """Write ``shown_rgb`` as phones do: stored sideways, EXIF orientation 6 (by hand)."""
    stored = np.ascontiguousarray(np.rot90(shown_rgb, 1)[..., ::-1])
    data = cv2.imencode(".jpg", stored, [cv2.IMWRITE_JPEG_QUALITY, 100])[1].tobytes()
    tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0"
    payload = b"Exif\0\0" + tiff
    path.write_bytes(data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
                     + data[2:])


def test_exif_rotated_photo_matches_mask_drawn_as_shown(tmp_path, capsys):
    image, _, mask = _disc(40, 24)  # portrait as the viewer shows it: 24 wide, 40 high
    mask[:, :] = 0
    mask[4:20, 4:20] = 255  # object in the top half only: orientation matters
    image = np.where(mask[..., None] > 0, [0.9, 0.5, 0.2], 0.2)
    _exif6_jpeg(tmp_path / "phone.jpg", np.round(image * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), mask)  # drawn on the photo as shown
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "phone.jpg", "--mask",
        tmp_path / "m.png", "--out", tmp_path / "out", "--cutout",
    )
    assert code == 0, err
    alpha = cv2.imread(str(tmp_path / "out" / "phone.png"), cv2.IMREAD_UNCHANGED)
    assert alpha.shape == (40, 24)  # written upright, as shown
    assert alpha[mask > 0].mean() > 200 and alpha[30:, :].mean() < 30
    cut = cv2.imread(str(tmp_path / "out" / "phone_cutout.png"), cv2.IMREAD_UNCHANGED)
    assert cut.shape == (40, 24, 4) and abs(int(cut[10, 10, 2]) - 230) < 30  # red of RGB


def test_mask_in_alpha_channel(tmp_path, capsys):
    image, _, mask = _disc()
    _write_rgb(tmp_path / "x.png", image)
    white = np.dstack([np.full(mask.shape + (3,), 255, np.uint8), mask])
    cv2.imwrite(str(tmp_path / "white.png"), white)
    cutout = np.dstack([np.round(image * 255).astype(np.uint8), mask])  # a blue object
    cv2.imwrite(str(tmp_path / "cutout.png"), cutout)
    for name in ("white", "cutout"):
        code, _, err = _run(
            capsys, "--model", "guided-filter", "--image", tmp_path / "x.png", "--mask",
            tmp_path / f"{name}.png", "--out", tmp_path / name,
        )
        assert code == 0, err
        alpha = cv2.imread(str(tmp_path / name / "x.png"), 0)
        assert alpha[mask > 0].mean() > 200 and alpha[mask == 0].mean() < 60  # not all white
        if name == "cutout":
            assert err.count("\n") == 1 and "alpha channel is used as the mask" in err
        else:
            assert err == ""


@pytest.mark.parametrize(
    "case,message",
    [
        ("out_is_file", "is a file, not a folder"),
        ("out_has_image_extension", "looks like an image file name"),
        ("out_under_a_file", "cannot be created"),
        ("out_not_writable", "cannot write to --out"),
        ("out_is_input_folder", "shares the stem 'a' of the input"),
        ("out_is_mask_folder", "would overwrite an input file"),
    ],
)
def test_out_is_checked_before_computing(tmp_path, capsys, monkeypatch, case, message):
    import tempfile

    import keras_matting.api

    (tmp_path / "img").mkdir()
    (tmp_path / "msk").mkdir()
    image, _, mask = _disc()
    for stem in ("a", "b"):
        cv2.imwrite(str(tmp_path / "img" / f"{stem}.jpg"), np.round(image * 255).astype(np.uint8))
        cv2.imwrite(str(tmp_path / "msk" / f"{stem}.png"), mask)
    (tmp_path / "file").write_bytes(b"x")
    out = {
        "out_is_file": tmp_path / "file",
        "out_has_image_extension": tmp_path / "alpha.jpg",
        "out_under_a_file": tmp_path / "file" / "out",
        "out_not_writable": tmp_path / "ro" / "out",
        "out_is_input_folder": tmp_path / "img",
        "out_is_mask_folder": tmp_path / "msk",
    }[case]
    if case == "out_not_writable":
        (tmp_path / "ro").mkdir()

        def refuse(*args, dir=None, **kwargs):  # root ignores chmod: simulate EACCES
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)

    def no_compute(*args, **kwargs):
        raise AssertionError("computed before the checks")

    monkeypatch.setattr(keras_matting.api, "matte", no_compute)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "img", "--mask",
        tmp_path / "msk", "--out", out,
    )
    assert code == 2, err  # a folder run: bad arguments exit 2, not 1
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing created


def test_single_image_next_to_itself_warns(tmp_path, capsys):
    image, _, mask = _disc()
    _write_rgb(tmp_path / "a.jpg", image)
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "a.jpg", "--mask",
        tmp_path / "m.png", "--out", tmp_path,
    )
    assert code == 0 and err.count("\n") == 1 and "shares the stem 'a'" in err
    assert os.path.exists(tmp_path / "a.png")


def test_library_errors_become_one_line(tmp_path, capsys):
    # 1x1 image with --cutout: pymatting divided by zero; now a 1x1 result
    cv2.imwrite(str(tmp_path / "one.png"), np.full((1, 1, 3), 200, np.uint8))
    cv2.imwrite(str(tmp_path / "one_m.png"), np.full((1, 1), 255, np.uint8))
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "one.png", "--mask",
        tmp_path / "one_m.png", "--out", tmp_path / "o1", "--cutout",
    )
    assert code == 0 and "ZeroDivisionError" not in err, err
    assert cv2.imread(str(tmp_path / "o1" / "one_cutout.png"), cv2.IMREAD_UNCHANGED).shape == (1, 1, 4)
    # an all-zero mask: refused like --mask auto finding nobody
    image, _, mask = _disc()
    _write_rgb(tmp_path / "x.png", image)
    cv2.imwrite(str(tmp_path / "zero.png"), np.zeros_like(mask))
    code, _, err = _run(
        capsys, "--model", "guided-filter", "--image", tmp_path / "x.png", "--mask",
        tmp_path / "zero.png", "--out", tmp_path / "o2",
    )
    assert code == 2 and err.count("\n") == 1 and "zero.png" in err and "no foreground" in err
    assert not os.path.exists(tmp_path / "o2")


def test_closed_form_trimap_without_background_names_the_trimap(tmp_path, capsys):
    pytest.importorskip("pymatting")
    _example(tmp_path)
    trimap = np.full((16, 20), 128, np.uint8)
    trimap[:, 15:] = 255
    cv2.imwrite(str(tmp_path / "nobg.png"), trimap)
    code, _, err = _run(
        capsys, "--model", "closed-form", "--image", tmp_path / "photo.png", "--trimap",
        tmp_path / "nobg.png", "--out", tmp_path / "out",
    )
    assert code == 2 and err.count("\n") == 1, err
    assert "nobg.png" in err and "no background pixel" in err and "mark some background" in err


def test_corrupt_background_and_truncated_image_are_named(tmp_path, capfd):
    _example(tmp_path)
    (tmp_path / "bg.png").write_bytes(b"garbage")
    common = ["--model", "knn", "--trimap", tmp_path / "tri.png", "--out", tmp_path / "out"]
    code = predict.main([str(a) for a in [*common, "--image", tmp_path / "photo.png",
                                          "--background", tmp_path / "bg.png"]])
    err = capfd.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "background file" in err and "bg.png" in err
    data = (tmp_path / "photo.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    code = predict.main([str(a) for a in [*common, "--image", tmp_path / "cut.png"]])
    err = capfd.readouterr().err
    assert code == 2 and err.count("\n") == 1, err  # no "libpng error" line
    assert "cut.png" in err and "truncated" in err and "use PNG" not in err


@pytest.mark.slow
def test_tiled_run_shows_tile_progress(tmp_path, capsys, monkeypatch, tiny_paths):
    import functools

    from keras_matting.inference import high_resolution

    monkeypatch.setattr(
        high_resolution, "predict_trimap_tiled",
        functools.partial(high_resolution.predict_trimap_tiled, tile=16, overlap=4, max_pixels=0),
    )
    monkeypatch.setattr(predict, "PROGRESS_DELAY_S", 0)
    _example(tmp_path)
    code, _, err = _run(
        capsys, "--model", tiny_paths / "alphagan.keras", "--image", tmp_path / "photo.png",
        "--trimap", tmp_path / "tri.png", "--out", tmp_path / "out",
    )
    assert code == 0, err
    assert "photo:" in err and "tile" in err and "/2 [" in err  # 2 windows of 16 over 20 px


def test_run_removes_what_a_killed_run_left_in_the_output_folder(tmp_path, capsys):
    image, _, mask = _disc()
    cv2.imwrite(str(tmp_path / "x.png"), np.round(image[..., ::-1] * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    out = tmp_path / "out"
    out.mkdir()
    stale, fresh, mine = out / ".x.tmp-1a2b3c4d.png", out / ".x.tmp-0badcafe.png", out / "keep.png"
    for path in (stale, fresh, mine):
        path.write_bytes(b"partial")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(mine, (old, old))
    code, _, _ = _run(capsys, "--model", "guided-filter", "--image", tmp_path / "x.png",
                      "--mask", tmp_path / "m.png", "--out", out)
    assert code == 0 and (out / "x.png").exists()
    assert not stale.exists()  # an hour-old temporary of our own naming
    assert fresh.exists() and mine.exists()  # a live writer's, and a user's file
