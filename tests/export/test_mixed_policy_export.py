"""An IGF trained under a mixed dtype policy exports as float32 TFLite, ONNX and SavedModel.

Issue #18 (mixed precision). The tiny IGF is trained by ``keras-matting train igf --smoke
--dtype-policy P`` (``train.main``: the recipe builds both networks under ``P``, trains two
steps and saves ``generator.keras``), for ``P`` = ``mixed_bfloat16`` and ``mixed_float16``.

What the package does with the policy:

- the generator's config is its constructor arguments only (no per-layer dtype), so
  ``generator.keras`` holds float32 weights (a mixed policy keeps float32 variables) and
  reloads under the process's global policy, which the runner restores to float32 after
  building the networks: the reloaded generator is float32 throughout;
- the export functions take any generator; one still computing in bfloat16 / float16 (the
  trainer's own generator after training in Python, or one loaded while a mixed global
  policy is set) is exported as a float32 copy
  (:func:`keras_matting.export.serving.float32_generator`). Without that copy, measured
  (TF 2.21): the TFLite conversion fails (no builtin kernels for bf16/f16 ops), the ONNX
  model has bfloat16 convolutions onnxruntime refuses (mixed_bfloat16) or float16 compute
  (mixed_float16, alphas 2.6e-5 to 3.3e-5 off), and the SavedModel computes in bf16 / f16
  behind float32 signatures (alphas 1e-4 to 1e-3 / 6e-5 off).

Both are exported here: the reloaded file through the CLI (``keras-matting export``, what a
user runs after training) and the trained in-memory generator through the export functions.
Every input and output must be float32, no float16/bfloat16 tensor may be left inside, and
the alphas must equal the reloaded float32 generator's within ``ATOL``.
"""

import contextlib
import io
import json
import types
import zipfile

import keras
import numpy as np
import pytest

from keras_matting.cli import export as export_cli
from keras_matting.cli import train
from keras_matting.export.onnx import ONNXRunner, export_onnx
from keras_matting.export.saved_model import export_saved_model
from keras_matting.export.tflite import export_tflite
from keras_matting.export.tflite_runner import TFLiteRunner
from keras_matting.training import runner
from tests.export.conftest import keras_alpha, random_inputs

pytestmark = [pytest.mark.slow, pytest.mark.tf_only]

POLICIES = ("mixed_bfloat16", "mixed_float16")
# Float32 exports of the float32 generator differ from Keras by at most 5e-8 (TFLite with
# XNNPACK, ONNX Runtime; the SavedModel is bitwise equal), measured on these models and
# inputs. 1e-6 leaves 20x for other CPUs and kernels, and stays 25x below the smallest
# float16 leak measured (ONNX of the mixed_float16 generator, 2.6e-5; bfloat16: 1e-4).
ATOL = 1e-6
# A multiple of the IGF's stride of 32, then a batch of 2 that the exports pad and crop.
SHAPES = [(1, 64, 96), (2, 45, 70)]
FORMATS = ("tflite", "onnx", "saved_model")
HALF_ONNX_TYPES = {10, 16}  # onnx.TensorProto.FLOAT16, BFLOAT16
HALF_TF_TYPES = {"DT_HALF", "DT_BFLOAT16"}


@contextlib.contextmanager
def restored_dtype_policy():
    """Whatever the block does to the global dtype policy is undone when it ends."""
    previous = keras.config.dtype_policy()
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.fixture(autouse=True)
def keep_global_dtype_policy():
    with restored_dtype_policy():
        yield


@pytest.fixture(scope="module", params=POLICIES)
def trained(request, tmp_path_factory):
    """``keras-matting train igf --smoke --dtype-policy P``: its output folder, the trained
    (in-memory, still mixed) generator, and the global policy right after the run."""
    from keras_matting.models.registry import load

    policy = request.param
    out = tmp_path_factory.mktemp(policy) / "run"
    built = []
    build = runner._build_under_policy

    def recording_build(recipe, config):  # the runner's own function; keeps its model
        model = build(recipe, config)
        built.append(model)
        return model

    with restored_dtype_policy(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "_build_under_policy", recording_build)
        code = train.main(["igf", "--smoke", "--jit-compile", "false",
                           "--dtype-policy", policy, "--output-dir", str(out)])
        policy_after = keras.config.dtype_policy().name
    assert code == 0
    (model,) = built
    path = out / "generator.keras"
    return types.SimpleNamespace(policy=policy, out=out, path=path, generator=model.generator,
                                 reloaded=load(str(path)), policy_after=policy_after)


def _weights(model):
    return [np.asarray(w) for w in model.weights]


def test_the_saved_generator_is_float32(trained):
    assert trained.policy_after == "float32"  # the runner restored the process's policy
    config = json.loads((trained.out / "config.json").read_text())
    assert config["dtype_policy"] == trained.policy
    # It did train under the mixed policy: every layer computes in it but the alpha
    # layer, float32 by construction; the variables are float32 (mixed policies).
    trained_layers = {layer.name: layer.dtype_policy.name for layer in trained.generator.layers}
    assert trained_layers.pop("alpha") == "float32"
    assert set(trained_layers.values()) == {trained.policy}
    assert {v.dtype for v in trained.generator.variables} == {"float32"}

    import h5py

    with zipfile.ZipFile(trained.path) as archive:
        h5 = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    saved = []
    with h5:
        h5.visititems(lambda name, obj: saved.append(obj.dtype)
                      if isinstance(obj, h5py.Dataset) else None)
    assert saved and set(saved) == {np.dtype("float32")}

    reloaded = trained.reloaded
    assert reloaded.dtype_policy.name == "float32"
    assert {layer.dtype_policy.name for layer in reloaded.layers} == {"float32"}
    assert {v.dtype for v in reloaded.variables} == {"float32"}
    for a, b in zip(_weights(reloaded), _weights(trained.generator), strict=True):
        np.testing.assert_array_equal(a, b)  # the trained weights, bit for bit


def _export(trained, source, fmt, folder):
    ext = {"tflite": ".tflite", "onnx": ".onnx", "saved_model": ""}[fmt]
    path = str(folder / f"igf_{source}{ext}")
    if source == "cli":  # keras-matting export --model generator.keras
        args = ["--model", str(trained.path), "--format", fmt, "--out", path]
        assert export_cli.main(args) == 0
        return path
    export = {"tflite": export_tflite, "onnx": export_onnx,
              "saved_model": export_saved_model}[fmt]
    return export(trained.generator, path)


def _tflite(path):
    runner_ = TFLiteRunner(path, num_threads=2)
    interpreter = runner_.interpreter
    for detail in interpreter.get_input_details() + interpreter.get_output_details():
        assert detail["dtype"] == np.float32, detail["name"]
    floats = {np.dtype(d["dtype"]) for d in interpreter.get_tensor_details()
              if np.dtype(d["dtype"]).kind == "f"}
    assert floats == {np.dtype("float32")}, floats
    return runner_


def _onnx(path):
    import onnx

    proto = onnx.load(path)
    for value in list(proto.graph.input) + list(proto.graph.output):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT, value.name
    half = [t.name for t in proto.graph.initializer if t.data_type in HALF_ONNX_TYPES]
    half += [v.name for v in proto.graph.value_info
             if v.type.tensor_type.elem_type in HALF_ONNX_TYPES]
    half += [n.name for n in proto.graph.node if n.op_type == "Cast"
             and any(a.name == "to" and a.i in HALF_ONNX_TYPES for a in n.attribute)]
    assert not half, half
    return ONNXRunner(path, num_threads=2)


def _saved_model(path):
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2

    serve = tf.saved_model.load(path).signatures["serving_default"]
    inputs = serve.structured_input_signature[1]
    assert sorted(inputs) == ["image", "mask"]
    assert {spec.dtype for spec in inputs.values()} == {tf.float32}
    assert {spec.dtype for spec in serve.structured_outputs.values()} == {tf.float32}
    graph = serve.graph.as_graph_def()
    types_ = set()
    for node in list(graph.node) + [n for f in graph.library.function for n in f.node_def]:
        for attr in node.attr.values():
            found = ([attr.type] if attr.HasField("type") else []) + list(attr.list.type)
            types_.update(types_pb2.DataType.Name(t) for t in found)
    assert "DT_FLOAT" in types_ and not types_ & HALF_TF_TYPES, types_

    def run(image, guide):
        return serve(image=tf.constant(image), mask=tf.constant(guide))["alpha"].numpy()

    return run


@pytest.mark.parametrize("source", ["cli", "trained"])
def test_exports_are_float32_and_match_the_reloaded_generator(trained, source, tmp_path):
    """``cli``: ``keras-matting export`` of ``generator.keras``; ``trained``: the export
    functions on the trainer's generator as it is after training (mixed layers)."""
    runners = {"tflite": _tflite, "onnx": _onnx, "saved_model": _saved_model}
    worst = {}
    for fmt in FORMATS:
        run = runners[fmt](_export(trained, source, fmt, tmp_path))
        worst[fmt] = 0.0
        for shape in SHAPES:
            image, guide = random_inputs(*shape, "mask", seed=shape[1])
            expected = keras_alpha(trained.reloaded, image, guide)
            alpha = run(image, guide)
            assert alpha.dtype == np.float32 and alpha.shape == shape + (1,)
            worst[fmt] = max(worst[fmt], float(np.abs(alpha - expected).max()))
    print(f"{trained.policy} {source}: max |export - keras| {worst}")
    assert max(worst.values()) <= ATOL, worst
