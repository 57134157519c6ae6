import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_matting.data.alphagan_dataset import build_alphagan_dataset
from keras_matting.errors import MattingInputError

CROP = 64


def _build(root, **kw):
    kw.setdefault("batch_size", 4)
    return build_alphagan_dataset(root / "fg", root / "alpha", root / "bg", crop_size=CROP, **kw)


def _take(ds, n):
    return [{k: v.numpy() for k, v in b.items()} for b in ds.take(n)]


def test_shapes_values_and_composite(train_dir):
    batches = _take(_build(train_dir, seed=4), 3)
    for b in batches:
        assert set(b) == {"image", "trimap", "alpha", "fg", "bg"}
        for key, v in b.items():
            assert v.dtype == np.float32
            assert v.shape == (4, CROP, CROP, 1 if key in ("trimap", "alpha") else 3)
            assert v.min() >= 0.0 and v.max() <= 1.0
        assert set(np.unique(b["trimap"])) <= {0.0, 0.5, 1.0}
        assert np.all((b["trimap"] == 0.5).sum(axis=(1, 2, 3)) > 0)  # every crop
        a = b["alpha"]
        np.testing.assert_allclose(b["image"], a * b["fg"] + (1 - a) * b["bg"], atol=1e-6)
        # the trimap is consistent with the alpha it was made from
        assert np.all(a[b["trimap"] == 0.0] < 0.5) and np.all(a[b["trimap"] == 1.0] > 0.5)


def test_same_seed_same_batches(train_dir):
    a = _take(_build(train_dir, seed=11), 4)
    b = _take(_build(train_dir, seed=11), 4)
    c = _take(_build(train_dir, seed=12), 1)
    for x, y in zip(a, b, strict=True):
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])
    assert not np.array_equal(a[0]["image"], c[0]["image"])


def test_one_pass_and_unbatched(train_dir):
    ds = _build(train_dir, seed=0, repeat=False, batch_size=None)
    items = list(ds)
    assert len(items) == 6 and items[0]["image"].shape == (CROP, CROP, 3)


def test_bad_folders(train_dir, tmp_path):
    with pytest.raises(MattingInputError, match="does not exist"):
        _build(tmp_path)
    os.makedirs(tmp_path / "fg")
    os.makedirs(tmp_path / "alpha")
    with pytest.raises(MattingInputError, match="fg folder .* has no image file"):
        _build(tmp_path)
    shutil.copy(train_dir / "fg" / "00000.png", tmp_path / "fg" / "x.png")
    shutil.copy(train_dir / "alpha" / "00000.png", tmp_path / "alpha" / "y.png")
    with pytest.raises(MattingInputError, match="x"):
        build_alphagan_dataset(tmp_path / "fg", tmp_path / "alpha", train_dir / "bg")


def test_trains_a_keras_model(train_dir):
    import keras

    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")

        def call(self, x):
            return self.conv(x)

        def train_step(self, data):
            x = tf.concat([data["image"], data["trimap"]], axis=-1)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.abs(self(x) - data["alpha"]))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            return {"loss": loss}

    model = Tiny()
    model.compile(optimizer="adam")
    hist = model.fit(_build(train_dir, seed=1), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][-1])
