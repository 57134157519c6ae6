import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from keras_matting.models.igf import IGFGenerator

PAPER_GENERATOR_PARAMS = 59_466
TINY = {"encoder_channels": (4, 4, 4, 8, 8), "decoder_channels": (8, 4, 4)}
to_np = keras.ops.convert_to_numpy


def trainable_params(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def sample(height, width, batch=1, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((batch, height, width, 3)).astype("float32")
    mask = (rng.random((batch, height, width, 1)) > 0.5).astype("float32")
    return image, mask


def randomize_bn(model, seed=0):
    """Non-trivial BN statistics so that exports are tested on more than identities."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.1, c).astype("float32"))


def test_default_matches_paper_parameter_count():
    gen = IGFGenerator()
    count = trainable_params(gen)
    assert count == 59_821  # layer table in the class docstring
    assert abs(count - PAPER_GENERATOR_PARAMS) / PAPER_GENERATOR_PARAMS < 0.10
    # the paper's first five convolutions: 4, 4, 8, 16, 32 channels, all stride 2
    assert [gen.get_layer(f"enc{i}_bn").gamma.shape[0] for i in range(1, 6)] == [4, 4, 8, 16, 32]
    assert isinstance(gen.get_layer("enc1_dwconv"), keras.layers.DepthwiseConv2D)
    assert isinstance(gen.get_layer("enc2_dwconv"), keras.layers.DepthwiseConv2D)
    for i in range(1, 6):
        conv = gen.get_layer(f"enc{i}_dwconv" if i < 3 else f"enc{i}_conv")
        assert conv.strides == (2, 2)


def test_tiny_config_builds_and_is_smaller():
    gen = IGFGenerator(**TINY)
    assert trainable_params(gen) < 10_000
    alpha = gen(np.concatenate(sample(64, 96), axis=-1))
    assert alpha.shape == (1, 64, 96, 1)


@pytest.mark.parametrize("height,width", [(512, 512), (333, 517)])
def test_predict_alpha_shape_and_range(height, width):
    gen = IGFGenerator()
    randomize_bn(gen)
    image, mask = sample(height, width)
    alpha = gen.predict_alpha(image, mask)
    assert alpha.shape == (1, height, width)
    assert np.isfinite(alpha).all() and alpha.min() >= 0.0 and alpha.max() <= 1.0
    single = gen.predict_alpha(image[0], mask[0, ..., 0])
    np.testing.assert_allclose(single, alpha[0], atol=1e-6)


def test_predict_alpha_equals_call_on_multiples():
    gen = IGFGenerator(**TINY)
    randomize_bn(gen)
    image, mask = sample(64, 96)
    np.testing.assert_allclose(
        gen.predict_alpha(image, mask),
        to_np(gen(np.concatenate([image, mask], -1)))[..., 0],
        atol=1e-6,
    )


def test_output_is_linear_model_of_the_image():
    """alpha = up(A) . I + up(B): with coefficients fixed, alpha is affine in I."""
    gen = IGFGenerator(**TINY)
    x = np.concatenate(sample(32, 32), axis=-1)
    head = keras.Model(gen.input, gen.get_layer("phi_ab").output)
    coeffs = to_np(head(x))
    up = tf.image.resize(coeffs, (32, 32), method="bilinear").numpy()
    expected = np.clip((up[..., :3] * x[..., :3]).sum(-1, keepdims=True) + up[..., 3:], 0, 1)
    np.testing.assert_allclose(to_np(gen(x)), expected, atol=1e-5)


@pytest.mark.parametrize("prior", [False, True])
def test_keras_round_trip(tmp_path, prior):
    gen = IGFGenerator(**TINY, guided_filter_prior=prior)
    randomize_bn(gen)
    x = np.concatenate(sample(64, 64, batch=2), axis=-1)
    path = tmp_path / "igf_generator.keras"
    gen.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, IGFGenerator)
    assert loaded.get_config() == gen.get_config()
    np.testing.assert_array_equal(to_np(loaded(x)), to_np(gen(x)))


def _frozen(model, shape, name="x"):
    fn = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec(shape, tf.float32, name)]
    )
    return fn, convert_variables_to_constants_v2(fn.get_concrete_function())


@pytest.mark.tf_only
@pytest.mark.parametrize("prior", [False, True])
@pytest.mark.slow
def test_tflite_builtins_parity(prior):
    from ai_edge_litert.interpreter import Interpreter

    gen = IGFGenerator(**TINY, guided_filter_prior=prior)
    randomize_bn(gen)
    x = np.concatenate(sample(64, 96), axis=-1)
    _, frozen = _frozen(gen, x.shape)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], gen)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert(), num_threads=2)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, gen(x).numpy(), atol=1e-4)
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert "CUSTOM" not in ops and not any(op.startswith("Flex") for op in ops), ops


@pytest.mark.tf_only
@pytest.mark.parametrize("prior", [False, True])
@pytest.mark.slow
def test_onnx_parity(prior):
    import onnxruntime as ort
    import tf2onnx

    gen = IGFGenerator(**TINY, guided_filter_prior=prior)
    randomize_bn(gen)
    x = np.concatenate(sample(64, 96), axis=-1)
    fn, _ = _frozen(gen, x.shape)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=17)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(out, gen(x).numpy(), atol=1e-4)


def _prior_scene():
    rng = np.random.default_rng(1)
    image = rng.random((1, 128, 160, 3)).astype("float32")
    yy, xx = np.mgrid[:128, :160]
    mask = (((yy - 64) ** 2 + (xx - 70) ** 2) < 45**2).astype("float32")[None, ..., None]
    image[..., 0] = 0.6 * image[..., 0] + 0.4 * mask[..., 0]  # an edge to follow
    return image, mask


@pytest.mark.slow
def test_guided_filter_prior_starts_as_the_fast_guided_filter():
    from keras_matting.layers import FastGuidedFilter

    gen = IGFGenerator(**TINY, guided_filter_prior=True)
    assert trainable_params(gen) == trainable_params(IGFGenerator(**TINY))  # no new weights
    image, mask = _prior_scene()
    expected = to_np(FastGuidedFilter(radius=64, epsilon=1e-5, subsample=4)([image, mask]))
    out = to_np(gen(np.concatenate([image, mask], axis=-1)))
    np.testing.assert_allclose(out, np.clip(expected, 0, 1), atol=2e-4)


@pytest.mark.tf_only
def test_guided_filter_prior_learns_a_correction():
    gen = IGFGenerator(**TINY, guided_filter_prior=True)
    image, mask = _prior_scene()
    # phi_AB receives gradients
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.abs(gen(np.concatenate([image, mask], -1), training=True) - 0.5))
    grad = tape.gradient(loss, gen.get_layer("phi_ab").kernel)
    assert float(tf.reduce_max(tf.abs(grad))) > 0


@pytest.mark.parametrize("policy, atol", [("mixed_float16", 1e-4), ("mixed_bfloat16", 5e-4)])
def test_prior_and_band_compute_in_float32_under_mixed_policies(policy, atol):
    """The prior's epsilon (1e-5) and window variances need float32: under a mixed policy
    the network computes in 16 bits, the prior, the band and alpha in float32, and
    alpha stays close to the float32 model's with the same weights."""
    keras.utils.set_random_seed(0)
    ref = IGFGenerator(**TINY, guided_filter_prior=True, mask_band_radius=8)
    phi = ref.get_layer("phi_ab")  # zeros at first: give the network a say
    rng = np.random.default_rng(3)
    phi.kernel.assign(rng.normal(0.0, 0.05, phi.kernel.shape).astype("float32"))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        gen = IGFGenerator(**TINY, guided_filter_prior=True, mask_band_radius=8)
    finally:
        keras.config.set_dtype_policy(previous)
    gen.set_weights(ref.get_weights())
    for name in ("prior_down", "prior_ab", "prior_add", "mask_band", "alpha"):
        assert gen.get_layer(name).compute_dtype == "float32", name
    assert gen.get_layer("phi_ab").compute_dtype == policy.split("_")[1]
    x = np.concatenate(_prior_scene(), axis=-1)
    out, expected = to_np(gen(x)), to_np(ref(x))
    assert out.dtype == np.float32 and np.isfinite(out).all()
    # 16-bit activations move the network's correction a little (measured: float16
    # 8.2e-6, bfloat16 4.2e-5); without the float32 prior, float16 fails to run
    np.testing.assert_allclose(out, expected, atol=atol)


def test_rejects_bad_configuration():
    with pytest.raises(ValueError, match="encoder_channels"):
        IGFGenerator(encoder_channels=(8, 8, 8, 16, 32))
    with pytest.raises(ValueError, match="4 channels"):
        IGFGenerator(input_shape=(None, None, 3))
