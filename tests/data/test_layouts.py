import dataclasses
import os

import cv2
import numpy as np
import pytest

from keras_matting import io
from keras_matting.data import layouts
from keras_matting.data.folders import pair_by_name
from keras_matting.data.layouts import (
    apply_dataset_layout,
    detect_layout,
    iter_pairs,
    prepare_training_folders,
    read_layout,
)
from keras_matting.errors import MattingInputError
from keras_matting.inference.foreground import estimate_foreground

H, W = 36, 44


def _alpha(seed):
    """A soft disc: 0 outside, 255 inside, a ramp between (unknown pixels for trimaps)."""
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - H / 2 + seed % 3, xx - W / 2)
    return np.clip((14.0 - r) / 6.0 * 255.0, 0, 255).astype(np.uint8)


def _rgb(seed):
    rng = np.random.default_rng(seed)
    return cv2.resize(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8), (W, H))


def _write(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return str(path)


def _pair_dirs(root, fg_folder, alpha_folder, names, fg_ext=".png", alpha_ext=".png"):
    for i, name in enumerate(names):
        _write(os.path.join(root, fg_folder, name + fg_ext), _rgb(i))
        _write(os.path.join(root, alpha_folder, name + alpha_ext), _alpha(i))


def _composite_photo(path, alpha_path):
    """A photo I = a F + (1 - a) B with F pure red, B pure blue (a real soft edge)."""
    a = _alpha(0).astype(np.float64)[..., None] / 255.0
    f, b = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])  # BGR: red, blue
    _write(path, np.round((a * f + (1 - a) * b) * 255).astype(np.uint8))
    _write(alpha_path, _alpha(0))


def make_layout(root, layout):
    """A tiny dataset in ``layout``; returns ``(dataset_root, expected sample names)``."""
    root = str(root)
    if layout == "adobe":
        base = os.path.join(root, "Combined_Dataset", "Training_set")
        _pair_dirs(os.path.join(base, "Adobe-licensed images"), "fg", "alpha", ["a", "b"],
                   fg_ext=".jpg", alpha_ext=".jpg")
        _pair_dirs(os.path.join(base, "Other"), "fg", "alpha", ["c"])
        with open(os.path.join(base, "training_fg_names.txt"), "w") as f:
            f.write("a.jpg\nc.png\n")  # b is not in the training list
        with open(os.path.join(base, "training_bg_names.txt"), "w") as f:
            f.write("COCO_0.jpg\nCOCO_1.jpg\nCOCO_missing.jpg\nCOCO_0.jpg\n")
        return root, ["a", "c"]
    if layout == "d646":
        _pair_dirs(os.path.join(root, "Train"), "FG", "GT", ["x1", "x2"])
        _pair_dirs(os.path.join(root, "Test"), "FG", "GT", ["t1"])
        return root, ["x1", "x2"]
    if layout == "am2k":
        for name in ("m_1", "m_2"):
            _composite_photo(os.path.join(root, "train", "original", name + ".jpg"),
                             os.path.join(root, "train", "mask", name + ".png"))
        _pair_dirs(os.path.join(root, "validation"), "original", "mask", ["v"], ".jpg")
        return root, ["m_1", "m_2"]
    if layout == "p3m":
        _composite_photo(os.path.join(root, "train", "blurred_image", "p_1.jpg"),
                         os.path.join(root, "train", "mask", "p_1.png"))
        val = os.path.join(root, "validation", "P3M-500-NP")
        _pair_dirs(val, "original_image", "mask", ["v"], ".jpg")
        return root, ["p_1"]
    if layout == "ppm":
        _composite_photo(os.path.join(root, "image", "0001.jpg"),
                         os.path.join(root, "matte", "0001.png"))
        return root, ["0001"]
    if layout == "rgba":
        for i, name in enumerate(["cut_a", "cut_b"]):
            _write(os.path.join(root, name + ".png"), np.dstack([_rgb(i), _alpha(i)]))
        return root, ["cut_a", "cut_b"]
    if layout == "folders":
        _pair_dirs(root, "fg", "alpha", ["s0", "s1"])
        return root, ["s0", "s1"]
    raise AssertionError(layout)


def _backgrounds(root):
    nested = os.path.join(str(root), "coco", "train2014")
    for i, name in enumerate(["COCO_0.jpg", "COCO_1.jpg", "other.jpg"]):
        _write(os.path.join(nested, name), cv2.resize(_rgb(10 + i), (60, 50)))
    return os.path.join(str(root), "coco")


ALL = [name for name in layouts.LAYOUTS if name != "auto"]


@pytest.mark.parametrize("layout", ALL)
def test_detects_each_layout_and_lists_its_training_samples(tmp_path, layout):
    root, names = make_layout(tmp_path / "ds", layout)
    assert detect_layout(root) == layout
    data = read_layout(root, layout)
    assert data.layout == layout
    assert sorted(s.name for s in data.samples) == sorted(names)
    for sample in data.samples:  # every sample points at existing files of its own name
        assert os.path.isfile(sample.alpha)
        source = sample.image or sample.foreground
        assert os.path.splitext(os.path.basename(source))[0] == sample.name


@pytest.mark.parametrize("layout, sub", [("am2k", "train"), ("p3m", "train"), ("d646", "Train"),
                                         ("adobe", "Combined_Dataset")])
def test_the_split_folder_itself_is_accepted(tmp_path, layout, sub):
    root, names = make_layout(tmp_path / "ds", layout)
    data = read_layout(os.path.join(root, sub))
    assert data.layout == layout and sorted(s.name for s in data.samples) == sorted(names)


def test_a_folder_matching_no_layout_is_one_line_naming_the_expected_ones(tmp_path):
    _pair_dirs(str(tmp_path / "ds"), "images", "alphas", ["a"])
    with pytest.raises(MattingInputError) as err:
        read_layout(tmp_path / "ds")
    message = str(err.value)
    assert "\n" not in message and "matches no dataset layout" in message
    for expected in ("train/original + train/mask", "Train/FG + Train/GT", "image + matte",
                     "fg + alpha", "transparent PNGs", "training_fg_names.txt"):
        assert expected in message


def test_a_named_layout_that_does_not_match_says_what_it_expected(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "d646")
    with pytest.raises(MattingInputError, match=r"not an AM-2k folder \(expected train/original"):
        read_layout(root, "am2k")
    with pytest.raises(MattingInputError, match="dataset folder not found"):
        read_layout(tmp_path / "missing")
    with pytest.raises(MattingInputError, match="--dataset-layout 'coco'"):
        read_layout(root, "coco")


def test_a_sample_missing_its_alpha_is_an_error(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "am2k")
    os.remove(os.path.join(root, "train", "mask", "m_2.png"))
    with pytest.raises(MattingInputError, match=r"1 file\(s\) have no file of the same name.*m_2"):
        read_layout(root)


def test_rgba_layout_refuses_an_opaque_file_when_named(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "rgba")
    _write(os.path.join(root, "z_opaque.png"), _rgb(5))
    with pytest.raises(MattingInputError, match="z_opaque.png: no alpha channel"):
        read_layout(root, "rgba")


def test_adobe_uses_the_listed_foregrounds_and_the_named_backgrounds(tmp_path, capsys):
    root, _ = make_layout(tmp_path / "ds", "adobe")
    bg = _backgrounds(tmp_path)
    fg_dir, alpha_dir, bg_dir = prepare_training_folders(root, tmp_path / "cache", bg_dir=bg)
    names, fgs, alphas = pair_by_name(fg_dir, alpha_dir)
    assert names == ["a", "c"]
    src = os.path.join(root, "Combined_Dataset", "Training_set")
    assert os.path.samefile(fgs[0], os.path.join(src, "Adobe-licensed images", "fg", "a.jpg"))
    assert os.path.samefile(alphas[1], os.path.join(src, "Other", "alpha", "c.png"))
    assert sorted(os.listdir(bg_dir)) == ["COCO_0.jpg", "COCO_1.jpg"]  # not other.jpg
    assert "2 of the 3 backgrounds" in capsys.readouterr().out
    with pytest.raises(MattingInputError, match="none of the 3 backgrounds named"):
        prepare_training_folders(root, tmp_path / "cache2", bg_dir=os.path.join(root, "Combined_Dataset"))


def test_adobe_listed_foreground_missing_is_an_error(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "adobe")
    with open(os.path.join(root, "Combined_Dataset", "Training_set", "training_fg_names.txt"),
              "a") as f:
        f.write("zz_not_unpacked.jpg\n")
    with pytest.raises(MattingInputError, match=r"1 listed foreground\(s\).*zz_not_unpacked.jpg"):
        read_layout(root)


def test_rgba_cutouts_are_split_into_colours_and_alpha(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "rgba")
    fg_dir, alpha_dir, bg_dir = prepare_training_folders(root, tmp_path / "cache", bg_dir="bgs")
    assert bg_dir == "bgs"
    names, fgs, alphas = pair_by_name(fg_dir, alpha_dir)
    assert names == ["cut_a", "cut_b"]
    for i, (fg, alpha) in enumerate(zip(fgs, alphas, strict=True)):
        np.testing.assert_array_equal(cv2.imread(fg, cv2.IMREAD_UNCHANGED), _rgb(i))
        np.testing.assert_array_equal(cv2.imread(alpha, cv2.IMREAD_UNCHANGED), _alpha(i))


@pytest.mark.parametrize("layout", ["am2k", "p3m", "ppm"])
def test_photos_get_their_estimated_foreground_not_the_photo(tmp_path, layout):
    root, names = make_layout(tmp_path / "ds", layout)
    data = read_layout(root)
    fg_dir, alpha_dir, _ = prepare_training_folders(root, tmp_path / "cache")
    assert pair_by_name(fg_dir, alpha_dir)[0] == sorted(names)
    sample = data.samples[0]
    image, alpha = io.read_image(sample.image), io.read_alpha(sample.alpha)
    cached = io.read_image(os.path.join(fg_dir, sample.name + ".png"))
    np.testing.assert_array_equal(io.quantize(cached), io.quantize(estimate_foreground(image, alpha)))
    # the estimate is much closer to the true red foreground than the photo in the soft band
    soft = (alpha > 0.1) & (alpha < 0.9)
    red = np.array([1.0, 0.0, 0.0])
    assert np.abs(cached - red)[soft].mean() < 0.5 * np.abs(image - red)[soft].mean()
    # iter_pairs yields the same estimate without writing anything
    name, fg, a = next(iter_pairs(data))
    assert name == sample.name and fg.shape == image.shape and a.shape == alpha.shape
    np.testing.assert_array_equal(io.quantize(fg), io.quantize(cached))


def test_am2k_uses_generated_foregrounds_when_the_folder_is_there(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "am2k")
    _pair_dirs(os.path.join(root, "train"), "fg", "unused", ["m_1", "m_2"])
    data = read_layout(root)
    assert all(s.image is None and "/fg/" in s.foreground.replace(os.sep, "/") for s in data.samples)


def test_prepared_folders_are_reused_and_follow_the_dataset(tmp_path, monkeypatch):
    root, _ = make_layout(tmp_path / "ds", "am2k")
    cache = tmp_path / "cache"
    fg_dir, alpha_dir, _ = prepare_training_folders(root, cache)
    before = os.path.getmtime(os.path.join(fg_dir, "m_1.png"))

    def fail(*args, **kwargs):
        raise AssertionError("a cached foreground was estimated again")

    monkeypatch.setattr("keras_matting.inference.foreground.estimate_foreground", fail)
    os.remove(os.path.join(root, "train", "original", "m_2.jpg"))
    os.remove(os.path.join(root, "train", "mask", "m_2.png"))
    prepare_training_folders(root, cache)
    assert os.path.getmtime(os.path.join(fg_dir, "m_1.png")) == before
    assert sorted(os.listdir(fg_dir)) == ["m_1.png"] and sorted(os.listdir(alpha_dir)) == ["m_1.png"]


def test_folders_layout_is_used_in_place(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "folders")
    fg_dir, alpha_dir, _ = prepare_training_folders(root, tmp_path / "cache")
    assert fg_dir == os.path.join(root, "fg") and alpha_dir == os.path.join(root, "alpha")
    assert not os.path.exists(tmp_path / "cache")


def test_prepared_layouts_feed_both_pipelines(tmp_path):
    from keras_matting.data.alphagan_dataset import build_alphagan_dataset
    from keras_matting.data.igf_dataset import build_igf_dataset

    bg = _backgrounds(tmp_path)
    root, _ = make_layout(tmp_path / "adobe", "adobe")
    fg_dir, alpha_dir, bg_dir = prepare_training_folders(root, tmp_path / "c1", bg_dir=bg)
    batch = next(iter(build_alphagan_dataset(fg_dir, alpha_dir, bg_dir, batch_size=2, crop_size=24,
                                             seed=0, kernel_sizes=(2, 4))))
    assert batch["image"].shape == (2, 24, 24, 3) and np.isfinite(batch["image"]).all()
    root, _ = make_layout(tmp_path / "am2k", "am2k")
    fg_dir, alpha_dir, _ = prepare_training_folders(root, tmp_path / "c2")
    batch = next(iter(build_igf_dataset(fg_dir, alpha_dir, bg, batch_size=2, crop_size=24,
                                        short_side=32, seed=0, kernel_sizes=(3, 5))))
    assert batch["image"].shape == (2, 24, 24, 3) and batch["mask"].shape == (2, 24, 24, 1)


def _config(tmp_path, **kwargs):
    from keras_matting.training.igf_recipe import IGFRecipeConfig

    return IGFRecipeConfig(output_dir=str(tmp_path / "run"), **kwargs)


def test_recipe_config_gets_the_prepared_folders(tmp_path):
    root, _ = make_layout(tmp_path / "ds", "rgba")
    config = apply_dataset_layout(_config(tmp_path, dataset_dir=root, bg_dir="bgs"))
    expected = os.path.join(str(tmp_path / "run"), "dataset")
    assert (config.fg_dir, config.alpha_dir) == (os.path.join(expected, "fg"),
                                                 os.path.join(expected, "alpha"))
    assert config.bg_dir == "bgs"
    unchanged = _config(tmp_path, fg_dir="f", alpha_dir="a")
    assert apply_dataset_layout(unchanged) == unchanged
    with pytest.raises(MattingInputError, match="not both"):
        apply_dataset_layout(dataclasses.replace(config, dataset_dir=root))
    with pytest.raises(MattingInputError, match="--dataset-layout p3m needs --dataset-dir"):
        apply_dataset_layout(_config(tmp_path, dataset_layout="p3m"))


def test_train_cli_reads_the_flags_and_exits_2_on_a_wrong_folder(tmp_path, capsys):
    from keras_matting.cli.train import main, parse_args

    _, config = parse_args(["igf", "--dataset-dir", "X", "--dataset-layout", "am2k"])
    assert (config.dataset_dir, config.dataset_layout) == ("X", "am2k")
    (tmp_path / "empty").mkdir()
    code = main(["alphagan", "--dataset-dir", str(tmp_path / "empty"),
                 "--bg-dir", str(tmp_path / "empty"), "--val-dir", "none",
                 "--output-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "matches no dataset layout" in err and len(err.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "run")  # refused before training started
