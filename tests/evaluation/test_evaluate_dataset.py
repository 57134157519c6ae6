"""``keras-matting evaluate --dataset``: reports carry the numbers of keras_matting.metrics."""

import json
import os
import shutil

import cv2
import numpy as np
import pytest

from keras_matting.cli import evaluate
from keras_matting.cli import main as dispatcher
from keras_matting.filters.classical import closed_form_matting
from keras_matting.filters.guided_filter import fast_guided_filter
from keras_matting.io import quantize, read_image
from keras_matting.metrics import SCORE_KEYS, clamp_known, compute_metrics, whole_image_scores
from keras_matting.protocol import scoring_trimap_np

NAMES = ("a", "b", "c")
SIZES = ((48, 64), (52, 60), (44, 64))  # (height, width), one per image


def _write(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _dataset(root, weak=True):
    """Three composites of a soft ellipse: image/, alpha/, trimap/T1/, mask/[, trimap/Weak/]."""
    rng = np.random.default_rng(1)
    for i, (name, (h, w)) in enumerate(zip(NAMES, SIZES, strict=True)):
        yy, xx = np.mgrid[0:h, 0:w]
        r = np.hypot((xx - w / 2) / (w / 3.2), (yy - h / 2) / (h / 3.0))
        alpha = np.clip((1.15 - r) / 0.3, 0, 1)
        fg = np.array([0.9, 0.6 - 0.1 * i, 0.2])
        bg = np.array([0.1, 0.3, 0.8]) + 0.05 * rng.standard_normal((h, w, 3))
        image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
        alpha8 = quantize(alpha)
        trimap = np.full((h, w), 128, np.uint8)
        trimap[alpha8 == 0] = 0
        trimap[alpha8 == 255] = 255
        trimap[cv2.dilate((alpha8 > 0).astype(np.uint8), np.ones((5, 5))) == 0] = 0
        mask = cv2.dilate((alpha > 0.5).astype(np.uint8), np.ones((3 + 2 * i, 3 + 2 * i)))
        _write(root / "image" / f"{name}.png", quantize(image)[..., ::-1])
        _write(root / "alpha" / f"{name}.png", alpha8)
        _write(root / "trimap" / "T1" / f"{name}.png", trimap)
        _write(root / "mask" / f"{name}.png", mask * 255)
        if weak:
            # deliberately not the derived trimap, to see which one is scored
            weak_trimap = scoring_trimap_np(mask, 10)
            _write(root / "trimap" / "Weak" / f"{name}.png", quantize(weak_trimap))
    return root


def _expected(root, name, method, protocol, scoring_kernel=None):
    image = read_image(root / "image" / f"{name}.png")
    gt = cv2.imread(str(root / "alpha" / f"{name}.png"), cv2.IMREAD_UNCHANGED)
    mask = (cv2.imread(str(root / "mask" / f"{name}.png"), cv2.IMREAD_UNCHANGED) > 127)
    if protocol == "trimap":
        scoring = cv2.imread(str(root / "trimap" / "T1" / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        trimap, guide = scoring, (scoring >= 128).astype(np.float64)
    else:
        trimap = quantize(scoring_trimap_np(mask, 20))
        scoring = quantize(scoring_trimap_np(mask, scoring_kernel)) if scoring_kernel else trimap
        guide = mask.astype(np.float64)
    if method == "closed-form":
        alpha = closed_form_matting(image, trimap)
    elif method == "mask":
        alpha = guide  # the mask itself
    else:
        alpha = np.clip(fast_guided_filter(image, guide, 64, 1e-5, 4), 0, 1)
    # standard errors on the clamped alpha, what users see on the alpha as it is
    return {**compute_metrics(clamp_known(quantize(alpha), scoring), gt, scoring),
            **whole_image_scores(alpha, gt)}


def _run(root, report, *extra):
    return evaluate.main(["--dataset", str(root), "--report", str(report), *extra])


def _check_numbers(data, root, protocol, labels, scoring_kernel=None):
    for row in data["images"]:
        for label in labels:
            want = _expected(root, row["name"], label, protocol, scoring_kernel)
            got = row["methods"][label]
            for key in ("sad", "mse", "grad", "conn", *SCORE_KEYS):
                if want[key] != want[key]:  # NaN: an empty sure region, null in JSON
                    assert got[key] is None, (row["name"], label, key)
                    continue
                assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), (row["name"], label, key)
            assert got["seconds"] is None if label == "mask" else got["seconds"] > 0
    for label in labels:
        for key in ("sad", "mse", "grad", "conn", *SCORE_KEYS):
            values = [row["methods"][label][key] for row in data["images"]]
            values = [v for v in values if v is not None]
            if not values:
                assert data["mean"][label][key] is None
                continue
            assert data["mean"][label][key] == pytest.approx(np.mean(values))


def test_trimap_protocol_report(tmp_path, capsys):
    root = _dataset(tmp_path / "data")
    report = tmp_path / "report"
    code = _run(root, report, "--model", "none", "--protocol", "trimap:T1",
                "--baseline", "closed-form", "guided-filter")
    assert code == 0
    files = sorted(os.listdir(report))
    assert files == ["grid_a.png", "grid_b.png", "grid_c.png", "report.md", "results.json",
                     "sad_per_image.png"]
    for name in files:
        if name.endswith(".png"):
            assert cv2.imread(str(report / name)) is not None
    data = json.loads((report / "results.json").read_text())
    assert data["complete"] and data["count"] == 3 and data["failures"] == []
    assert data["command"].startswith("keras-matting evaluate --dataset")
    assert data["protocol"]["inputs"] == {
        "closed-form": "image + trimap/T1",
        "guided-filter": "image + mask = trimap/T1 >= 128 (foreground and unknown)",
    }
    assert data["machine"]["cpu_count"] == os.cpu_count() and data["dataset"] == str(root)
    _check_numbers(data, root, "trimap", ("closed-form", "guided-filter"))
    md = (report / "report.md").read_text()
    assert data["command"] in md and "![SAD per image](sad_per_image.png)" in md
    mean = data["mean"]
    best = min(mean["closed-form"]["sad"], mean["guided-filter"]["sad"])
    assert f"**{best:.2f}**" in md and "trimap/T1 >= 128" in md
    for label in ("closed-form", "guided-filter"):
        assert f"{mean[label]['mse']:.4f}" in md and f"{mean[label]['seconds']:.3f}" in md
        assert f"{mean[label]['whole_mse']:.4f}" in md
    assert "## What users see: whole image, no clamping" in md
    assert "| method | input | whole SAD | whole MSE | band SAD | holes % | halo % | images |" in md
    assert data["protocol"]["mask_source"] is None and "Masks given" not in md
    out = capsys.readouterr().out
    assert "| closed-form |" in out and "report in" in out
    assert "What users see: whole image, no clamping" in out and "| whole SAD |" in out
    assert not [f for f in os.listdir(report) if f.startswith(".")]  # no temporary left


def test_mask_protocol_scores_on_weak_or_the_derived_trimap(tmp_path):
    root = _dataset(tmp_path / "weak")
    report = tmp_path / "r1"
    args = ("--model", "none", "--protocol", "mask", "--baseline", "guided-filter",
            "closed-form", "--no-figures", "--limit", "2")
    assert _run(root, report, *args) == 0
    data = json.loads((report / "results.json").read_text())
    assert [r["name"] for r in data["images"]] == ["a", "b"]
    assert data["protocol"]["scoring_trimap"] == "`trimap/Weak`"
    assert "derived from mask/" in data["protocol"]["inputs"]["closed-form"]
    assert data["protocol"]["inputs"]["guided-filter"] == "image + mask/"
    _check_numbers(data, root, "mask", ("guided-filter", "closed-form"), scoring_kernel=10)
    assert sorted(os.listdir(report)) == ["report.md", "results.json"]
    assert "Figures skipped: --no-figures" in (report / "report.md").read_text()

    root = _dataset(tmp_path / "derived", weak=False)
    assert _run(root, tmp_path / "r2", *args) == 0
    data = json.loads((tmp_path / "r2" / "results.json").read_text())
    assert "derived from mask/" in data["protocol"]["scoring_trimap"]
    _check_numbers(data, root, "mask", ("guided-filter", "closed-form"))


def test_a_failing_method_is_recorded_and_the_rest_scored(tmp_path, monkeypatch, capsys):
    import importlib

    classical = importlib.import_module("keras_matting.filters.classical")
    # keras_matting.filters exports a function named guided_filter: import the module by name
    guided = importlib.import_module("keras_matting.filters.guided_filter")

    real = guided.fast_guided_filter

    def flaky(image, p, *args, **kwargs):
        if image.shape[1] == 60:  # image "b"
            raise RuntimeError("synthetic failure\nsecond line")
        return real(image, p, *args, **kwargs)

    def no_pymatting():
        raise ImportError(classical._INSTALL_HINT)

    monkeypatch.setattr(guided, "fast_guided_filter", flaky)
    monkeypatch.setattr(classical, "_pymatting", no_pymatting)
    root = _dataset(tmp_path / "data")
    report = tmp_path / "report"
    code = _run(root, report, "--model", "none", "--protocol", "trimap:T1",
                "--baseline", "guided-filter", "knn")
    assert code == 1
    data = json.loads((report / "results.json").read_text())
    rows = {r["name"]: r["methods"] for r in data["images"]}
    assert rows["b"]["guided-filter"] == {"error": "RuntimeError: synthetic failure second line"}
    for name in ("a", "c"):
        assert "error" not in rows[name]["guided-filter"]
        want = _expected(root, name, "guided-filter", "trimap")
        assert rows[name]["guided-filter"]["sad"] == pytest.approx(want["sad"], rel=1e-9)
        assert 'pip install "keras-matting[baselines]"' in rows[name]["knn"]["error"]
    assert data["mean"]["guided-filter"]["count"] == 2 and data["mean"]["knn"]["count"] == 0
    assert data["mean"]["knn"]["sad"] is None and len(data["failures"]) == 4
    md = (report / "report.md").read_text()
    assert "## Failures" in md and "| b | guided-filter | RuntimeError: synthetic failure" in md
    assert "| 2/3 |" in md and "| 0/3 |" in md
    assert os.path.exists(report / "grid_b.png")
    assert "guided-filter failed on b" in capsys.readouterr().err


def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, monkeypatch):
    root = _dataset(tmp_path / "data", weak=False)
    base = ["--model", "none", "--baseline", "guided-filter"]
    cases = [
        (["--dataset", str(tmp_path / "nope"), "--protocol", "mask"], "does not exist"),
        (["--dataset", str(root), "--protocol", "trimap:T9"], "does not exist"),
        (["--dataset", str(root), "--protocol", "weak"], "trimap:NAME"),
    ]
    for args, message in cases:
        assert evaluate.main([*args, *base, "--report", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert _run(root, tmp_path / "r", "--model", "none", "--protocol", "mask") == 2
    assert "at least one --baseline" in capsys.readouterr().err
    from keras_matting.models import registry

    monkeypatch.setattr(registry, "SAVED_MODELS_DIR", str(tmp_path / "no_models"))
    assert _run(root, tmp_path / "r", "--model", "igf", "--protocol", "mask") == 2
    assert "no shipped 'igf' model" in capsys.readouterr().err
    os.remove(root / "alpha" / "b.png")
    assert _run(root, tmp_path / "r", *base, "--protocol", "mask") == 2
    assert "lacks 1 of the 3" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "r")
    for args in (["--dataset", str(root), "--model", "none"],
                 ["--dataset", str(root), "--pred", "p", "--model", "none", "--protocol", "mask",
                  "--report", "r"],
                 ["--dataset", str(root), "--model", "none", "--protocol", "mask", "--report",
                  "r", "--baseline", "magic"]):
        with pytest.raises(SystemExit) as info:
            evaluate.main(args)
        assert info.value.code == 2
    assert "--protocol" in capsys.readouterr().err


@pytest.mark.slow
def test_keras_generator_path_through_the_dispatcher(tmp_path):
    import keras

    from keras_matting.api import matte
    from keras_matting.models.igf import IGFGenerator

    keras.utils.set_random_seed(0)
    generator = IGFGenerator(encoder_channels=(4, 4, 4, 4, 8), decoder_channels=(4, 4, 4))
    path = tmp_path / "tiny_igf.keras"
    generator.save(path)
    root = _dataset(tmp_path / "data")
    report = tmp_path / "report"
    code = dispatcher.main(["evaluate", "--dataset", str(root), "--model", str(path),
                            "--protocol", "mask", "--baseline", "guided-filter",
                            "--report", str(report), "--limit", "2"])
    assert code == 0
    data = json.loads((report / "results.json").read_text())
    assert [m["label"] for m in data["methods"]] == ["tiny_igf", "guided-filter"]
    assert data["methods"][0]["kind"] == "model" and "IGFGenerator" in data["methods"][0]["settings"]
    assert data["machine"]["tensorflow"]
    for row in data["images"]:
        name = row["name"]
        mask = cv2.imread(str(root / "mask" / f"{name}.png"), cv2.IMREAD_UNCHANGED) > 127
        alpha = matte(str(root / "image" / f"{name}.png"), mask=mask.astype(np.float32),
                      model=str(path))
        scoring = cv2.imread(str(root / "trimap" / "Weak" / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        gt = cv2.imread(str(root / "alpha" / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        want = compute_metrics(clamp_known(quantize(alpha), scoring), gt, scoring)
        for key in ("sad", "mse", "grad", "conn"):
            assert row["methods"]["tiny_igf"][key] == pytest.approx(want[key], rel=1e-6, abs=1e-9)
    assert os.path.exists(report / "grid_a.png") and os.path.exists(report / "sad_per_image.png")


# --------------------------------------------------------------------------- portraits, mask


def _portraits(root):
    """The three composites with image/, alpha/ and mask/ only (no trimap/)."""
    _dataset(root, weak=False)
    shutil.rmtree(root / "trimap")
    return root


def test_portraits_protocol_with_a_mask_folder(tmp_path, capsys):
    root = _portraits(tmp_path / "data")
    report = tmp_path / "report"
    labels = ("mask", "guided-filter", "closed-form")
    assert _run(root, report, "--model", "none", "--protocol", "portraits", "--baseline",
                *labels, "--no-figures") == 0
    data = json.loads((report / "results.json").read_text())
    protocol = data["protocol"]
    assert protocol["kind"] == "portraits" and protocol["mask_source"] == "mask/"
    assert protocol["inputs"] == {
        "mask": "mask/ itself, as the alpha",
        "guided-filter": "image + mask/",
        "closed-form": "image + trimap derived from mask/ (unknown = dilate(mask, 20x20) - "
                       "erode(mask, 20x20))",
    }
    assert "derived from mask/" in protocol["scoring_trimap"]
    # the portraits protocol gives and scores exactly what the mask protocol without
    # trimap/Weak does; the user view is on the unclamped alpha
    _check_numbers(data, root, "mask", labels)
    md = (report / "report.md").read_text()
    assert "- Masks given to mask methods: mask/" in md
    assert "## What users see: whole image, no clamping" in md
    assert "| mask | mask/ itself, as the alpha |" in md and " | n/a | 3/3 |" in md
    assert data["mean"]["mask"]["seconds"] is None and "`mask` runs nothing" in md
    assert "| mask |" in capsys.readouterr().out


def _square_dataset(root):
    """One 100x100 image: the reference is a 60x60 square; the mask misses a 5x6 hole in
    its sure interior and adds a 4x5 blob in the sure exterior (counted by hand in
    tests/metrics/test_whole_image.py: 900 sure-interior and 1900 sure-exterior pixels)."""
    alpha = np.zeros((100, 100), np.uint8)
    alpha[20:80, 20:80] = 255
    mask = alpha.copy()
    mask[45:50, 45:51] = 0
    mask[0:4, 0:5] = 255
    image = np.full((100, 100, 3), 40, np.uint8)
    image[alpha > 0] = (200, 150, 120)
    _write(root / "image" / "sq.png", image)
    _write(root / "alpha" / "sq.png", alpha)
    _write(root / "mask" / "sq.png", mask)
    return root


@pytest.mark.parametrize("protocol", ["portraits", "mask"])
def test_mask_baseline_counted_by_hand(tmp_path, protocol):
    root = _square_dataset(tmp_path / "data")
    report = tmp_path / "report"
    assert _run(root, report, "--model", "none", "--protocol", protocol, "--baseline", "mask",
                "--no-figures") == 0
    data = json.loads((report / "results.json").read_text())
    got = data["images"][0]["methods"]["mask"]
    # 30 hole pixels and 20 blob pixels, each 1 off; none in the band
    assert got["whole_sad"] == pytest.approx(50 / 1000, rel=1e-12)
    assert got["whole_mse"] == pytest.approx(50 / 100**2, rel=1e-12)
    assert got["band_sad"] == 0.0
    assert got["holes_pct"] == pytest.approx(100 * 30 / 900, rel=1e-12)
    assert got["halo_pct"] == pytest.approx(100 * 20 / 1900, rel=1e-12)
    # the derived trimap leaves both defects unknown (dilate - erode covers them): the
    # standard SAD sees the same 50 pixels
    assert got["sad"] == pytest.approx(50 / 1000, rel=1e-12)
    assert data["mean"]["mask"]["holes_pct"] == pytest.approx(100 * 30 / 900, rel=1e-12)
    md = (report / "report.md").read_text()
    # one method: every value is the best one, in bold
    assert ("| mask | mask/ itself, as the alpha | **0.05** | **0.0050** | **0.00** | **3.33** "
            "| **1.05** | 1/1 |") in md


def test_portraits_auto_mask_plumbing(tmp_path):
    """No mask/: the mask is the segmenter's (a cartoon head here; whatever it finds)."""
    from keras_matting.inference.person_mask import person_mask

    h, w = 96, 80
    yy, xx = np.mgrid[0:h, 0:w]
    head = ((xx - w / 2) / 14) ** 2 + ((yy - 32) / 18) ** 2 < 1
    body = ((xx - w / 2) / 34) ** 2 + ((yy - 100) / 34) ** 2 < 1
    image = np.empty((h, w, 3), np.float32)
    image[:] = (0.3, 0.5, 0.8)
    image[head] = (0.85, 0.65, 0.55)
    image[body] = (0.2, 0.2, 0.25)
    alpha = quantize((head | body).astype(np.float32))
    root = tmp_path / "data"
    _write(root / "image" / "p.png", quantize(image)[..., ::-1])
    _write(root / "alpha" / "p.png", alpha)
    report = tmp_path / "report"
    code = _run(root, report, "--model", "none", "--protocol", "portraits", "--baseline", "mask",
                "guided-filter", "--no-figures")
    data = json.loads((report / "results.json").read_text())
    assert data["protocol"]["mask_source"] == "auto"
    assert "automatic person mask" in data["protocol"]["scoring_trimap"]
    assert data["protocol"]["inputs"]["guided-filter"] == "image + automatic person mask"
    assert "what --mask auto uses" in (report / "report.md").read_text()
    mask = person_mask(read_image(root / "image" / "p.png"))
    result = data["images"][0]["methods"]["mask"]
    if mask.any() and not mask.all():
        assert code == 0
        assert result["whole_sad"] == pytest.approx(whole_image_scores(mask, alpha)["whole_sad"])
    else:  # nothing found: recorded, one line, for every method
        assert code == 1 and "automatic person mask" in result["error"]


def test_mask_baseline_needs_a_mask_protocol(tmp_path, capsys):
    root = _dataset(tmp_path / "data", weak=False)
    assert _run(root, tmp_path / "r", "--model", "none", "--protocol", "trimap:T1",
                "--baseline", "guided-filter", "mask") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--protocol mask or portraits" in err
    assert not os.path.exists(tmp_path / "r")


def test_portraits_bad_inputs_exit_2(tmp_path, capsys):
    root = _portraits(tmp_path / "data")
    os.remove(root / "mask" / "b.png")
    assert _run(root, tmp_path / "r", "--model", "none", "--protocol", "portraits",
                "--baseline", "mask") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mask folder" in err and "lacks 1 of the 3" in err
    shutil.rmtree(root / "alpha")
    assert _run(root, tmp_path / "r", "--model", "none", "--protocol", "portraits",
                "--baseline", "mask") == 2
    assert "does not exist" in capsys.readouterr().err
