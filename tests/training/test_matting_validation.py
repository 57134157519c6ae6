import numpy as np
import pytest

from keras_matting.training.matting_validation import MattingValidation


def _sample(name, group, size=80, box=(20, 60)):
    ref = np.zeros((size, size), np.uint8)
    ref[box[0] : box[1], box[0] : box[1]] = 255
    trimap = np.where(ref > 0, 255, 0).astype(np.uint8)
    trimap[box[0] - 3 : box[0] + 3, box[0] : box[1]] = 128
    image = np.zeros((size, size, 3), np.float32)
    image[..., 0] = 0.5
    image[..., 1] = np.random.default_rng(0).random((size, size))  # texture
    return {"name": name, "set": group, "image": image, "condition": ref / 255.0,
            "alpha": ref, "scoring_trimap": trimap}


def test_reports_band_and_user_measures_per_set():
    samples = [_sample("a", "one"), _sample("b", "two")]

    def predict(image, condition):
        out = condition.astype(np.float32).copy()
        out[35:45, 35:45] = 0.0  # a 100-pixel hole: the whole sure interior
        return out

    callback = MattingValidation(samples, predict, compute_grad_conn=False)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert logs["val_sad"] == logs["val_one_sad"] == 0.0  # the clamped band misses the hole
    assert logs["val_one_whole_sad"] == pytest.approx(100 / 1000)
    # sure interior: rows and columns 20-59 eroded by 15 px each side -> 35-44, the hole
    assert logs["val_one_holes_pct"] == pytest.approx(100.0)
    assert logs["val_two_halo_pct"] == 0.0
    assert "val_score" not in logs


def test_combined_score_by_hand():
    samples = [_sample("a", "am"), _sample("b", "pt")]
    hole = np.zeros((80, 80), bool)
    hole[35:45, 35:45] = True

    def predict(image, condition):
        out = condition.astype(np.float32).copy()
        out[hole] = 0.5
        return out

    callback = MattingValidation(samples, predict, compute_grad_conn=False,
                                 score_sets={"am": "sad", "pt": "band_sad"})
    # references fixed by hand (they are otherwise computed with the guided filter and the mask)
    callback._references = {
        "guided_filter": {"am": {"sad": 2.0}, "pt": {"band_sad": 4.0}},
        "mask": {"am": {"whole_sad": 0.1}, "pt": {"whole_sad": 0.2}},
    }
    means, _, _ = callback.evaluate()
    whole = 100 * (1 - 128 / 255) / 1000
    am = 0.5 * 0.0 / 2.0 + 0.5 * whole / 0.1 + 0.02 * (100.0 + 0.0)
    pt = 0.5 * 0.0 / 4.0 + 0.5 * whole / 0.2 + 0.02 * (100.0 + 0.0)
    assert means["score"] == pytest.approx((am + pt) / 2)


def test_references_are_the_guided_filter_and_the_mask():
    samples = [_sample("a", "am")]
    callback = MattingValidation(samples, lambda i, c: c, compute_grad_conn=False,
                                 score_sets={"am": "sad"})
    refs = callback.references()
    assert refs["mask"]["am"]["whole_sad"] == 0.0  # the mask is the reference here
    assert refs["guided_filter"]["am"]["whole_sad"] > 0.0


def test_igf_recipe_validates_on_weak_masks_and_on_portraits(tmp_path):
    import cv2

    from keras_matting.inference.person_mask import person_mask
    from keras_matting.io import read_image
    from keras_matting.training.igf_recipe import IGFRecipe, IGFRecipeConfig

    rng = np.random.default_rng(0)
    for root, subs in ((tmp_path / "am", ("image", "alpha", "mask")),
                       (tmp_path / "pt", ("image", "alpha"))):
        for sub in subs:
            (root / sub).mkdir(parents=True)
        alpha = np.zeros((64, 96), np.uint8)
        alpha[16:48, 24:72] = 255
        cv2.imwrite(str(root / "image" / "x.png"), rng.integers(0, 256, (64, 96, 3), np.uint8))
        cv2.imwrite(str(root / "alpha" / "x.png"), alpha)
        if "mask" in subs:
            cv2.imwrite(str(root / "mask" / "x.png"), alpha)
    config = IGFRecipeConfig(val_portraits_dir=str(tmp_path / "pt"))
    samples = IGFRecipe.validation_samples(config, str(tmp_path / "am"))
    assert [s["set"] for s in samples] == ["alphamatting", "portraits"]
    portrait = samples[1]
    expected = person_mask(read_image(str(tmp_path / "pt" / "image" / "x.png")))
    np.testing.assert_array_equal(portrait["condition"], expected)  # what --mask auto uses
    assert set(np.unique(portrait["scoring_trimap"])) <= {0, 128, 255}
    assert IGFRecipe.score_sets == {"alphamatting": "sad", "portraits": "band_sad"}
