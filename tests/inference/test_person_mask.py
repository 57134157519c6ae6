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


@pytest.mark.parametrize("size", [(120, 90), (90, 200)])  # portrait (square model), landscape
def test_person_mask_is_binary_and_image_sized(size):
    image = cv2.imread(LEMUR)[..., ::-1].astype(np.float32) / 255
    image = cv2.resize(image, size[::-1])
    mask = person_mask.person_mask(image)
    assert mask.shape == size and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}
