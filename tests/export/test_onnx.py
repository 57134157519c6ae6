import numpy as np
import pytest

from keras_matting.export.onnx import ONNXRunner, convert_to_onnx
from keras_matting.export.serving import condition_name
from tests.export.conftest import keras_alpha, random_inputs


@pytest.mark.slow
def test_onnx_dynamic_parity(generator, tmp_path):
    from keras_matting.export.onnx import export_onnx

    path = export_onnx(generator, tmp_path / "model.onnx")
    import onnx

    proto = onnx.load(path)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    name = condition_name(generator)
    assert sorted(i.name for i in proto.graph.input) == sorted(["image", name])
    assert [o.name for o in proto.graph.output] == ["alpha"]
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims[:3] == [0, 0, 0]  # symbolic batch, height, width
    runner = ONNXRunner(path, num_threads=2)
    for shape in [(1, 64, 96), (2, 45, 70)]:
        image, guide = random_inputs(*shape, name, seed=shape[1])
        alpha = runner(image, guide)
        assert alpha.shape == shape + (1,)
        np.testing.assert_allclose(alpha, keras_alpha(generator, image, guide), atol=1e-4)


@pytest.mark.slow
def test_onnx_fixed_size(igf_generator):
    proto = convert_to_onnx(igf_generator, size=(64, 64), batch=1)
    image, guide = random_inputs(1, 64, 64, "mask", seed=1)
    np.testing.assert_allclose(ONNXRunner(proto)(image, guide),
                               keras_alpha(igf_generator, image, guide), atol=1e-4)
