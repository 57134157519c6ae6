import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_matting.export.saved_model import export_saved_model
from keras_matting.export.serving import condition_name
from tests.export.conftest import keras_alpha, random_inputs

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


def test_uint8_trimap_and_mask_thresholds():
    from keras_matting.export.serving import uint8_to_condition

    values = tf.constant([0, 84, 85, 128, 170, 171, 255], tf.uint8)
    np.testing.assert_array_equal(uint8_to_condition(values, "trimap").numpy(),
                                  [0, 0, 0.5, 0.5, 0.5, 1, 1])
    np.testing.assert_array_equal(uint8_to_condition(values, "mask").numpy(),
                                  [0, 0, 0, 1, 1, 1, 1])


@pytest.mark.slow
def test_saved_model_signatures_and_two_sizes(igf_generator, tmp_path):
    generator = igf_generator
    path = str(tmp_path / "model")
    os.makedirs(path)
    (tmp_path / "model" / "stale.txt").write_text("old export")
    assert export_saved_model(generator, path) == os.path.abspath(path)
    assert not (tmp_path / "model" / "stale.txt").exists()  # replaced as a whole
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary left behind
    name = condition_name(generator)

    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--all", "--dir", path],
                           capture_output=True, text=True, check=True).stdout
    for text in ("signature_def['serving_default']", "signature_def['serving_uint8']",
                 "inputs['image']", f"inputs['{name}']", "outputs['alpha']",
                 "shape: (-1, -1, -1, 3)", "DT_UINT8"):
        assert text in shown, text

    loaded = tf.saved_model.load(path)
    serve = loaded.signatures["serving_default"]
    serve8 = loaded.signatures["serving_uint8"]
    for shape in [(1, 64, 96), (2, 13, 21)]:  # 13x21: smaller than IGF's stride of 32
        image, guide = random_inputs(*shape, name, seed=shape[1])
        alpha = serve(image=tf.constant(image), **{name: tf.constant(guide)})["alpha"].numpy()
        assert alpha.shape == shape + (1,) and alpha.dtype == np.float32
        np.testing.assert_allclose(alpha, keras_alpha(generator, image, guide), atol=1e-5)
        image8 = np.round(image * 255).astype(np.uint8)
        guide8 = np.round(guide * 255).astype(np.uint8)  # 0.5 -> 128: unknown
        alpha8 = serve8(image=tf.constant(image8), **{name: tf.constant(guide8)})["alpha"]
        np.testing.assert_allclose(alpha8.numpy(),
                                   keras_alpha(generator, image8 / 255.0, guide), atol=1e-5)


@pytest.mark.slow
def test_saved_model_follows_the_umask_and_removes_stale_temporaries(igf_generator, tmp_path):
    stale = tmp_path / ".model.tmp-k3j_9x2a"  # a SavedModel export killed hours ago
    (stale / "variables").mkdir(parents=True)
    (stale / "variables" / "variables.index").write_bytes(b"x")
    fresh = tmp_path / ".model.tmp-abcd1234"  # one that another export is writing now
    fresh.mkdir()
    mine = tmp_path / ".model.tmp-notes.txt"  # the user's: not our naming
    mine.write_text("keep")
    for path in (stale / "variables" / "variables.index", stale / "variables", stale, mine):
        os.utime(path, (0, 0))
    old_umask = os.umask(0o022)
    try:
        path = export_saved_model(igf_generator, str(tmp_path / "model"))
    finally:
        os.umask(old_umask)
    assert sorted(os.listdir(tmp_path)) == [".model.tmp-abcd1234", ".model.tmp-notes.txt",
                                            "model"]
    modes = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files + ([""] if root == path else []):
            full = os.path.join(root, name)
            modes[os.path.relpath(full, path)] = os.stat(full).st_mode & 0o777
    assert modes["."] == 0o755  # was 0700 (mkdtemp): other users could not read it
    assert all(mode == (0o755 if os.path.isdir(os.path.join(path, rel)) else 0o644)
               for rel, mode in modes.items()), modes
