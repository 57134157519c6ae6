"""``IGF.evaluate`` without a trimap scores the protocol's trimap, as ``keras-matting evaluate``."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.models.igf import IGF, IGFDiscriminator, IGFGenerator
from keras_matting.protocol import SCORING_KERNEL, scoring_trimap_np


@pytest.mark.tf_only  # the IGF trainer's steps are TensorFlow code
def test_evaluate_scores_the_opencv_anchored_scoring_trimap():
    keras.utils.set_random_seed(3)
    generator = IGFGenerator(encoder_channels=(4, 4, 4, 4, 4), decoder_channels=(4, 4, 4),
                             num_residual_blocks=1)
    igf = IGF(generator, IGFDiscriminator(filters=2, num_layers=2), seed=0)
    igf.compile()
    rng = np.random.default_rng(0)
    n, size = 2, 64
    mask = np.zeros((n, size, size, 1), "float32")
    mask[0, 20:41, 17:50] = 1.0
    mask[1, 9:30, 30:61] = 1.0
    alpha = rng.random((n, size, size, 1)).astype("float32")
    image = rng.random((n, size, size, 3)).astype("float32")
    data = {"image": image, "mask": mask, "alpha": alpha}
    logs = igf.evaluate(tf.data.Dataset.from_tensor_slices(data).batch(n), verbose=0,
                        return_dict=True)

    pred = generator.predict(np.concatenate([image, mask], -1), verbose=0)
    errors = np.abs(pred - alpha)[..., 0]

    def mean_sad(unknown):
        return float(np.mean([errors[i][unknown[i]].sum() / 1000.0 for i in range(n)]))

    opencv = np.stack([scoring_trimap_np(m[..., 0], SCORING_KERNEL) == 0.5 for m in mask])
    np.testing.assert_allclose(logs["sad"], mean_sad(opencv), rtol=1e-5)
    # a "same" max-pool anchors the even kernel one pixel off: its band scores differently
    shifted = np.roll(opencv, (-1, -1), axis=(1, 2))
    assert abs(mean_sad(shifted) - logs["sad"]) > 1e-3
