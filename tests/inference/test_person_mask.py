import os

import cv2
import numpy as np
import pytest

from keras_matting.inference import person_mask

LEMUR = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "lemur", "image.png")


def test_models_and_notice_are_vendored():
    folder = os.path.dirname(person_mask.MODELS["square"])
    assert all(os.path.getsize(p) > 100_000 for p in person_mask.MODELS.values())
    notice = open(os.path.join(folder, "NOTICE")).read()
    assert "Apache" in notice and "0.10.14" in notice


@pytest.mark.parametrize("size", [(120, 90), (90, 200)])  # portrait and landscape shapes
def test_person_mask_is_binary_and_image_sized(size):
    image = cv2.imread(LEMUR)[..., ::-1].astype(np.float32) / 255
    image = cv2.resize(image, size[::-1])
    mask = person_mask.person_mask(image)
    assert mask.shape == size and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}


def test_mirror_averaging_is_symmetric_and_changes_the_map():
    image = cv2.imread(LEMUR)[..., ::-1].astype(np.float32) / 255
    image = cv2.resize(image, (160, 120))
    prob = person_mask.person_probability(image)
    mirrored = person_mask.person_probability(np.ascontiguousarray(image[:, ::-1]))
    # averaging a map with its mirror's map is invariant to mirroring the input
    np.testing.assert_allclose(prob, mirrored[:, ::-1], atol=1e-6)
    single = person_mask.person_probability(image, mirror=False)
    assert np.abs(single - prob).max() > 1e-4
    np.testing.assert_allclose(
        prob,
        np.clip(0.5 * (single + person_mask.person_probability(
            np.ascontiguousarray(image[:, ::-1]), mirror=False)[:, ::-1]), 0, 1),
        atol=1e-5,
    )
