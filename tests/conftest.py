import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


# The GAN trainers' train_step / test_step are TensorFlow code (tf.GradientTape,
# tf.distribute): every test of these modules is tf_only.
TRAINER_TEST_MODULES = {
    "test_alphagan.py",
    "test_gan_trainer.py",
    "test_igf.py",
    "test_igf_evaluate_protocol.py",
}


def pytest_collection_modifyitems(config, items):
    """Mark trainer tests ``tf_only``; skip ``tf_only`` tests on other Keras backends."""
    import keras
    import pytest

    for item in items:
        if item.path.name in TRAINER_TEST_MODULES and "models" in item.path.parts:
            item.add_marker(pytest.mark.tf_only)
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"tf_only: Keras backend is {keras.backend.backend()}")
    for item in items:
        if "tf_only" in item.keywords:
            item.add_marker(skip)
