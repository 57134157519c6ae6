import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.models.alphagan import PatchGANDiscriminator


@pytest.mark.tf_only
def test_default_is_70x70_patchgan():
    keras.utils.set_random_seed(0)
    d = PatchGANDiscriminator()
    assert d.count_params() == 2_768_449
    assert sum(int(np.prod(w.shape)) for w in d.trainable_weights) == 2_766_657
    x = tf.Variable(np.random.default_rng(0).random((1, 256, 256, 4)).astype("float32"))
    with tf.GradientTape() as tape:
        logits = d(x, training=False)
        center = logits[0, 15, 15, 0]
    assert tuple(logits.shape) == (1, 30, 30, 1)  # pix2pix's 30x30 patches for 256x256
    grad = np.abs(tape.gradient(center, x).numpy()[0]).sum(axis=-1)
    rows, cols = np.nonzero(grad.sum(axis=1))[0], np.nonzero(grad.sum(axis=0))[0]
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


@pytest.mark.tf_only
@pytest.mark.slow
def test_tiny_round_trip_and_export(tmp_path):
    import onnxruntime
    import tf2onnx
    from ai_edge_litert.interpreter import Interpreter

    d = PatchGANDiscriminator(filters=(8, 16))
    x = np.random.default_rng(1).random((1, 32, 40, 4)).astype("float32")
    want = d(x).numpy()
    assert want.shape == (1, 14, 18, 1)

    d.save(tmp_path / "d.keras")
    loaded = keras.saving.load_model(tmp_path / "d.keras", safe_mode=True)
    assert loaded.get_config() == d.get_config()
    np.testing.assert_array_equal(loaded(x).numpy(), want)

    d.export(
        str(tmp_path / "d.tflite"), format="litert", verbose=False,
        input_signature=[tf.TensorSpec(x.shape, tf.float32)],
        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]},
    )
    interpreter = Interpreter(model_path=str(tmp_path / "d.tflite"))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, want, atol=1e-4)

    spec = [tf.TensorSpec((None, None, None, 4), tf.float32, name="composite_trimap")]
    fn = tf.function(lambda t: d(t, training=False), input_signature=spec)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17)
    session = onnxruntime.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, want, atol=1e-4)
