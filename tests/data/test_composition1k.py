import math
import os

import numpy as np
import pytest
from PIL import Image

from keras_matting.cli import main as dispatcher
from keras_matting.data.composition1k import (
    composite_image,
    composition_plan,
    fit_background,
)
from keras_matting.errors import MattingInputError
from keras_matting.evaluation.benchmark import list_samples


def _reference(fg_path, alpha_path, bg_path):
    """Composite of one pair, pixel by pixel with Pillow, as the reference script describes."""
    fg = Image.open(fg_path)
    if fg.mode not in ("RGB", "RGBA"):
        fg = fg.convert("RGB")
    a = Image.open(alpha_path)
    w, h = fg.size
    bg = Image.open(bg_path).convert("RGB")
    bw, bh = bg.size
    ratio = max(w / bw, h / bh)
    if ratio > 1:
        bg = bg.resize((math.ceil(bw * ratio), math.ceil(bh * ratio)), Image.BICUBIC)
    bg = bg.crop((0, 0, w, h))
    fp, bp, ap = fg.load(), bg.load(), a.load()
    out = np.zeros((h, w, 3), np.uint8)
    for y in range(h):
        for x in range(w):
            alpha = ap[x, y] / 255
            if alpha >= 1:
                out[y, x] = fp[x, y][:3]
            elif alpha > 0:
                out[y, x] = [int(alpha * fp[x, y][c] + (1 - alpha) * bp[x, y][c]) for c in range(3)]
            else:
                out[y, x] = bp[x, y]
    return out


def test_plan_maps_background_i_times_20_plus_j():
    fgs = ["boy.png", "girl_1.jpg"]
    bgs = [f"bg{k:03d}.jpg" for k in range(40)]
    plan = composition_plan(fgs, bgs)
    assert len(plan) == 40
    assert plan[0] == ("boy.png", 0, "bg000.jpg", "boy_0")
    assert plan[19] == ("boy.png", 19, "bg019.jpg", "boy_19")
    assert plan[25] == ("girl_1.jpg", 5, "bg025.jpg", "girl_1_5")
    with pytest.raises(MattingInputError, match="need 40"):
        composition_plan(fgs, bgs[:39])


def test_small_background_upscaled_bicubic_then_cropped_top_left():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)  # 10 x 8 for a 16 x 12 fg
    fitted = fit_background(small, 16, 12)
    assert fitted.shape == (12, 16, 3)
    # ratio max(16/10, 12/8) = 1.6: upscaled to 16 x 13 (ceil), then the top 12 rows
    up = np.asarray(Image.fromarray(small).resize((16, 13), Image.BICUBIC))
    np.testing.assert_array_equal(fitted, up[:12, :16])
    assert not np.array_equal(fitted, np.asarray(Image.fromarray(small).resize((16, 12), Image.BICUBIC)))
    # one side smaller only: 20 x 8 -> ratio 1.5 -> 30 x 12, cropped to the left 16 columns
    wide = rng.integers(0, 256, (8, 20, 3), dtype=np.uint8)
    up = np.asarray(Image.fromarray(wide).resize((30, 12), Image.BICUBIC))
    np.testing.assert_array_equal(fit_background(wide, 16, 12), up[:, :16])


def test_large_background_is_only_cropped():
    rng = np.random.default_rng(1)
    large = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(fit_background(large, 16, 12), large[:12, :16])
    gray = Image.fromarray(large[..., 0])  # converted to RGB first
    np.testing.assert_array_equal(fit_background(gray, 16, 12), np.repeat(large[:12, :16, :1], 3, 2))


def test_composite_truncates_like_the_reference():
    rng = np.random.default_rng(2)
    fg = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    bg = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (9, 7), dtype=np.uint8)
    alpha[0, :] = 0
    alpha[1, :] = 255
    bg[2] = fg[2]  # equal colours: the float formula may land just below the integer
    out = composite_image(fg, alpha, bg)
    for y in range(9):
        for x in range(7):
            a = int(alpha[y, x]) / 255
            for c in range(3):
                if a >= 1:
                    want = int(fg[y, x, c])
                elif a > 0:
                    want = int(a * int(fg[y, x, c]) + (1 - a) * int(bg[y, x, c]))
                else:
                    want = int(bg[y, x, c])
                assert out[y, x, c] == want


def _adobe_like(root):
    """Two foregrounds (one RGBA), 40 backgrounds of mixed sizes, name lists and trimaps."""
    rng = np.random.default_rng(3)
    for d in ("fg", "fg2", "alpha", "bg", "trimaps"):
        os.makedirs(root / d)
    specs = [("dog.png", "fg", (16, 12), "RGB"), ("cat-2.png", "fg2", (12, 16), "RGBA")]
    for name, folder, (w, h), mode in specs:
        channels = 4 if mode == "RGBA" else 3
        Image.fromarray(rng.integers(0, 256, (h, w, channels), dtype=np.uint8)).save(root / folder / name)
        alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
        alpha[:3] = 0
        alpha[-3:] = 255
        Image.fromarray(alpha).save(root / "alpha" / name)
    sizes = [(10, 8), (30, 20), (20, 8), (12, 40)]
    bg_names = []
    for k in range(40):
        bw, bh = sizes[k % 4]
        name = f"2008_{k:06d}.png"
        Image.fromarray(rng.integers(0, 256, (bh, bw, 3), dtype=np.uint8)).save(root / "bg" / name)
        bg_names.append(name)
    # listed in reverse order: the lists, not the folder order, decide
    (root / "bg_names.txt").write_text("\n".join(bg_names[::-1]) + "\n")
    (root / "fg_names.txt").write_text("dog.png\ncat-2.png\n")
    for j in range(20):  # per-composite trimaps for dog, one per-foreground trimap for cat
        Image.fromarray(np.full((12, 16), 128, np.uint8)).save(root / "trimaps" / f"dog_{j}.png")
    Image.fromarray(np.full((16, 12), 128, np.uint8)).save(root / "trimaps" / "cat-2.png")
    return bg_names[::-1]


def test_cli_rebuilds_the_layout_pixel_for_pixel(tmp_path, capsys):
    bg_names = _adobe_like(tmp_path)
    out = tmp_path / "comp1k"
    args = ["composition1k", "--fg", str(tmp_path / "fg"), str(tmp_path / "fg2"),
            "--alpha", str(tmp_path / "alpha"), "--bg", str(tmp_path / "bg"),
            "--fg-names", str(tmp_path / "fg_names.txt"), "--bg-names", str(tmp_path / "bg_names.txt"),
            "--out", str(out), "--trimap", str(tmp_path / "trimaps")]
    assert dispatcher.main(args) == 0
    assert "wrote 40 composites" in capsys.readouterr().out
    stems = sorted([f"dog_{j}" for j in range(20)] + [f"cat-2_{j}" for j in range(20)])
    for folder in ("image", "alpha", "trimap/Adobe"):
        assert sorted(os.path.splitext(f)[0] for f in os.listdir(out / folder)) == stems
    for fg_name, folder, i, j in (("dog.png", "fg", 0, 0), ("dog.png", "fg", 0, 1),
                                  ("dog.png", "fg", 0, 2), ("cat-2.png", "fg2", 1, 3)):
        got = np.asarray(Image.open(out / "image" / f"{fg_name[:-4]}_{j}.png"))
        bg = tmp_path / "bg" / bg_names[20 * i + j]
        want = _reference(tmp_path / folder / fg_name, tmp_path / "alpha" / fg_name, bg)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.asarray(Image.open(out / "alpha" / f"{fg_name[:-4]}_{j}.png")),
                                      np.asarray(Image.open(tmp_path / "alpha" / fg_name)))
    samples, scoring = list_samples(out, "trimap", "Adobe")
    assert len(samples) == 40 and scoring == "trimap/Adobe"

    os.remove(tmp_path / "fg2" / "cat-2.png")
    assert dispatcher.main(args[:-2]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cat-2.png" in err
