import os
import zipfile

import h5py
import keras
import numpy as np
import pytest

import keras_matting
from keras_matting import saving
from keras_matting.models.alphagan import AlphaGANGenerator
from keras_matting.models.backbones.dilated_resnet_backbone import DilatedResNetBackbone


def _generator():
    keras.utils.set_random_seed(3)
    return AlphaGANGenerator(
        backbone=DilatedResNetBackbone([8, 8, 16, 64], [1, 1, 1, 1], stem_filters=8),
        aspp_filters=16,
        skip_filters=(4, 4),
        decoder_filters=((8, 8, 8), (8, 8, 8), (4, 4)),
    )


def _float16_tensors(path):
    with zipfile.ZipFile(path) as z, z.open(saving.WEIGHTS_ENTRY) as f, h5py.File(f, "r") as h5:
        dtypes = []
        h5.visititems(lambda _, o: dtypes.append(o.dtype) if isinstance(o, h5py.Dataset) else None)
    return dtypes


@pytest.mark.slow
def test_compact_file_is_float16_and_loads_close(tmp_path):
    gen = _generator()
    path = str(tmp_path / "g.keras")
    assert saving.save_compact(gen, path) == [path]
    dtypes = _float16_tensors(path)
    assert np.float16 in dtypes and np.float32 in dtypes  # big kernels halved, BN kept
    full = tmp_path / "full.keras"
    gen.save(full)
    assert os.path.getsize(path) < 0.75 * os.path.getsize(full)

    loaded = keras_matting.load(path)
    assert all(w.dtype == "float32" for w in loaded.weights)
    image = np.random.default_rng(0).random((40, 56, 3)).astype("float32")
    trimap = np.full((40, 56), 0.5, "float32")
    expected = gen.predict_alpha(image, trimap)
    np.testing.assert_allclose(loaded.predict_alpha(image, trimap), expected, atol=2e-2)


@pytest.mark.slow
def test_split_parts_join_and_replace_stale_files(tmp_path):
    gen = _generator()
    path = str(tmp_path / "g.keras")
    saving.save_compact(gen, path)
    whole = open(path, "rb").read()
    parts = saving.save_compact(gen, path, max_part_bytes=len(whole) // 3 + 1)
    assert parts == [f"{path}.part{i}" for i in range(3)]
    assert not os.path.exists(path)  # the stale whole file is gone
    assert sum(os.path.getsize(p) for p in parts) == len(whole)
    assert all(os.path.getsize(p) <= len(whole) // 3 + 1 for p in parts)
    assert saving.exists(path) and not saving.exists(str(tmp_path / "other.keras"))

    loaded = keras_matting.load(path)
    for a, b in zip(loaded.weights, saving.load_compact(path).weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    saving.save_compact(gen, path)  # whole again: the parts are removed
    assert os.path.isfile(path) and saving.part_paths(path) == []
