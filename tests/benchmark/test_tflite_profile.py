"""The per-op profiler cuts a model into one-op models that compute what the op computes."""

import keras
import numpy as np
import pytest

from keras_matting.benchmark.tflite_profile import _one_op_models, format_profile, profile_tflite
from keras_matting.export.tflite import convert_to_tflite
from keras_matting.models.igf import IGFGenerator
from tests.export.conftest import IGF_TINY, randomize_bn


def _model():
    keras.utils.set_random_seed(0)
    generator = randomize_bn(IGFGenerator(**IGF_TINY, guided_filter_prior=True,
                                          mask_band_radius=8))
    return convert_to_tflite(generator, size=(64, 64), packed=True)


@pytest.mark.slow
def test_one_op_models_reproduce_every_op_of_the_whole_model():
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    content = _model()
    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    whole = Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                        experimental_op_resolver_type=resolver)
    whole.allocate_tensors()
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.random((1, 64, 64, 3)), rng.random((1, 64, 64, 1)) > 0.5], -1)
    whole.set_tensor(whole.get_input_details()[0]["index"], x.astype(np.float32))
    whole.invoke()
    ops = whole._get_ops_details()
    models = list(_one_op_models(content))
    assert [m[0] for m in models] == [op["index"] for op in ops]
    assert [m[1] for m in models] == [op["op_name"] for op in ops]
    for (_, name, _, _, one_op), op in zip(models, ops, strict=True):
        single = Interpreter(model_content=one_op, experimental_op_resolver_type=resolver)
        single.allocate_tensors()
        for detail in single.get_input_details():
            single.set_tensor(detail["index"], whole.get_tensor(detail["index"]))
        single.invoke()
        out = single.get_output_details()[0]["index"]
        assert out == op["outputs"][0]
        np.testing.assert_allclose(single.get_tensor(out), whole.get_tensor(out), atol=1e-6,
                                   err_msg=name)


@pytest.mark.slow
def test_profile_lists_every_op_and_formats_shares():
    profile = profile_tflite(_model(), num_threads=1, runs=2, warmup=0)
    assert profile["whole_ms"] > 0 and all(op["ms"] >= 0 for op in profile["ops"])
    text = format_profile(profile, "tiny", top=3)
    counts = {}
    for op in profile["ops"]:
        counts[op["op"]] = counts.get(op["op"], 0) + 1
    for name, count in counts.items():
        assert f"| {name} | {count} |" in text
    shares = [float(line.split("|")[4].strip(" %")) for line in text.splitlines()
              if line.startswith("| ") and line.count("|") == 5 and "op type" not in line]
    assert abs(sum(shares) - 100.0) < 0.5
