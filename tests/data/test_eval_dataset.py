import os

import cv2
import numpy as np
import pytest

from keras_matting.data.eval_dataset import build_eval_dataset, list_eval_samples
from keras_matting.errors import MattingInputError

VAL = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "alphamatting_val"
)


@pytest.fixture()
def eval_dir(tmp_path):
    rng = np.random.default_rng(0)
    for sub in ("image", "alpha", "trimap/T1", "mask"):
        os.makedirs(tmp_path / sub)
    for name, (h, w) in {"a": (40, 50), "b": (60, 30)}.items():
        cv2.imwrite(
            str(tmp_path / "image" / f"{name}.png"), rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        )
        alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / "alpha" / f"{name}.png"), alpha)
        cv2.imwrite(
            str(tmp_path / "trimap" / "T1" / f"{name}.png"),
            np.choose(alpha // 86, [0, 128, 255]).astype(np.uint8),
        )
        cv2.imwrite(
            str(tmp_path / "mask" / f"{name}.png"), np.where(alpha > 127, 255, 0).astype(np.uint8)
        )
    return tmp_path


def test_reads_layout(eval_dir):
    items = list(build_eval_dataset(eval_dir, trimap="T1"))
    assert [i["name"].numpy() for i in items] == [b"a", b"b"]
    b = items[1]
    assert b["image"].shape == (60, 30, 3) and b["alpha"].shape == (60, 30, 1)
    alpha8 = cv2.imread(str(eval_dir / "alpha" / "b.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_allclose(b["alpha"].numpy()[..., 0], alpha8 / 255.0, atol=1e-7)
    np.testing.assert_array_equal(b["trimap"].numpy()[..., 0], np.choose(alpha8 // 86, [0, 0.5, 1]))
    np.testing.assert_array_equal(b["mask"].numpy()[..., 0], (alpha8 > 127).astype(np.float32))


def test_igf_protocol_resize(eval_dir):
    items = list(build_eval_dataset(eval_dir, trimap="T1", size=16, short_side=20))
    for i in items:
        assert i["image"].shape == (16, 16, 3) and i["trimap"].shape == (16, 16, 1)
        assert set(np.unique(i["trimap"].numpy())) <= {0.0, 0.5, 1.0}


def test_errors(eval_dir, tmp_path):
    with pytest.raises(MattingInputError, match="trimap"):
        list_eval_samples(eval_dir, trimap="T2")
    os.remove(eval_dir / "mask" / "a.png")
    with pytest.raises(MattingInputError, match="mask"):
        list_eval_samples(eval_dir, mask=True)
    with pytest.raises(MattingInputError, match="not found"):
        list_eval_samples(tmp_path / "nope")


@pytest.mark.skipif(not os.path.isdir(VAL), reason="shared validation set not present")
def test_alphamatting_val_weak_protocol():
    from keras_matting.protocol import scoring_trimap_np

    items = list(build_eval_dataset(VAL, trimap="Weak").take(2))
    assert len(items) == 2
    for i in items:
        m = i["mask"].numpy()[..., 0]
        np.testing.assert_array_equal(i["trimap"].numpy()[..., 0], scoring_trimap_np(m, 20))
