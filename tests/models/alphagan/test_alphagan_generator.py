import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.errors import MattingInputError
from keras_matting.inference.padding import crop_to_size, pad_to_multiple
from keras_matting.layers.max_unpooling_2d import MaxUnpooling2D
from keras_matting.models.alphagan import AlphaGANGenerator
from keras_matting.models.backbones import DilatedResNetBackbone

to_np = keras.ops.convert_to_numpy


def _inputs(n, h, w, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((n, h, w, 3)).astype("float32")
    trimap = rng.choice([0.0, 0.5, 1.0], size=(n, h, w, 1)).astype("float32")
    return image, trimap


@pytest.mark.parametrize("size", [(320, 320), (333, 517)])
@pytest.mark.slow
def test_predict_alpha_any_size(tiny_generator, size):
    image, trimap = _inputs(1, *size)
    alpha = tiny_generator.predict_alpha(image[0], trimap[0, ..., 0])
    assert alpha.shape == size and alpha.dtype == np.float32
    assert np.all(alpha >= 0) and np.all(alpha <= 1)
    # reference: reflect-pad to a multiple of 8, run the model eagerly, crop
    padded, _ = pad_to_multiple(tf.constant(np.concatenate([image, trimap], -1)), 8)
    want = crop_to_size(to_np(tiny_generator(padded.numpy())), size)[0, ..., 0]
    np.testing.assert_allclose(alpha, want, atol=1e-5)


def test_direct_call_shape_and_batch(tiny_generator):
    image, trimap = _inputs(2, 40, 56)
    out = tiny_generator(np.concatenate([image, trimap], -1))
    assert tuple(out.shape) == (2, 40, 56, 1)
    batch = tiny_generator.predict_alpha(image, trimap)
    assert batch.shape == (2, 40, 56)
    np.testing.assert_allclose(batch, to_np(out)[..., 0], atol=1e-5)
    assert isinstance(tiny_generator.get_layer("unpooling"), MaxUnpooling2D)


def test_predict_alpha_rejects_mismatched_trimap(tiny_generator):
    image, trimap = _inputs(1, 16, 16)
    with pytest.raises(MattingInputError, match="trimap"):
        tiny_generator.predict_alpha(image[0], trimap[0, :8])


def test_keras_round_trip(tiny_generator, tmp_path):
    image, trimap = _inputs(1, 24, 32, seed=3)
    x = np.concatenate([image, trimap], -1)
    path = tmp_path / "generator.keras"
    tiny_generator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, AlphaGANGenerator)
    assert loaded.get_config() == tiny_generator.get_config()
    np.testing.assert_array_equal(to_np(loaded(x)), to_np(tiny_generator(x)))


@pytest.mark.tf_only
@pytest.mark.slow
def test_tflite_builtins_export(tiny_generator, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    image, trimap = _inputs(1, 64, 48, seed=4)
    x = np.concatenate([image, trimap], -1)
    path = str(tmp_path / "generator.tflite")
    # Measured: TFLiteConverter.from_concrete_functions left Keras 3 variables as
    # uninitialised READ_VARIABLE ops (NaN output); Keras' SavedModel-based export freezes them.
    tiny_generator.export(
        path, format="litert", verbose=False,
        input_signature=[tf.TensorSpec((1, 64, 48, 4), tf.float32)],
        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]},
    )
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, tiny_generator(x).numpy(), atol=1e-4)
    op_names = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(name.startswith("Flex") for name in op_names)


@pytest.mark.tf_only
@pytest.mark.slow
def test_onnx_export_dynamic_size(tiny_generator):
    import onnxruntime
    import tf2onnx

    spec = [tf.TensorSpec((None, None, None, 4), tf.float32, name="image_trimap")]
    fn = tf.function(lambda x: tiny_generator(x, training=False), input_signature=spec)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17)
    session = onnxruntime.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    for shape in [(1, 64, 48), (2, 40, 72)]:
        image, trimap = _inputs(*shape, seed=5)
        x = np.concatenate([image, trimap], -1)
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        np.testing.assert_allclose(got, tiny_generator(x).numpy(), atol=1e-4)


def test_unpooling_width_must_match_stem():
    with pytest.raises(ValueError, match="stem_filters"):
        AlphaGANGenerator(
            backbone=DilatedResNetBackbone([4, 8], [1, 1], stem_filters=8),
            aspp_filters=8, skip_filters=(4, 4), decoder_filters=((8, 8, 6), (8, 8, 8), (4, 4)),
        )


@pytest.mark.slow
def test_default_generator_is_the_papers():
    generator = AlphaGANGenerator()
    assert generator.count_params() == 40_345_601
    trainable = sum(int(np.prod(w.shape)) for w in generator.trainable_weights)
    assert trainable == 40_287_905
    assert generator.backbone.count_params() == 23_590_848
    assert generator.get_layer("aspp_projection_conv").filters == 256
    assert generator.get_layer("deconv2_2_conv").strides == (2, 2)
    out = generator.compute_output_shape((1, 320, 320, 4))
    assert tuple(out) == (1, 320, 320, 1)
    assert generator.backbone.compute_output_shape((1, 320, 320, 4))["features"] == (
        1, 40, 40, 2048
    )
