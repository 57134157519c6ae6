import os

import cv2
import numpy as np
import pytest

from keras_matting.data.synthetic import write_dataset


@pytest.fixture(scope="session")
def train_dir(tmp_path_factory):
    """Six procedural 128 px fg/alpha pairs and four backgrounds of mixed sizes/formats."""
    root = tmp_path_factory.mktemp("train")
    write_dataset(root, 6, 128, seed=3, workers=1)
    bg = root / "bg" / "nested"
    os.makedirs(bg)
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(80, 120), (150, 100), (64, 64), (200, 260)]):
        img = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (w, h))
        cv2.imwrite(str(bg / f"b{i}.{'jpg' if i % 2 else 'png'}"), img)
    return root


def reference_dilate(x, k):
    """Independent square dilation with OpenCV's anchor (k // 2), outside ignored."""
    a = k // 2
    p = np.pad(x.astype(np.float64), ((a, k - 1 - a), (a, k - 1 - a)), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(p, (k, k))
    return win.max(axis=(-1, -2)).astype(x.dtype)


def reference_erode(x, k):
    return -reference_dilate(-x.astype(np.float64), k)
