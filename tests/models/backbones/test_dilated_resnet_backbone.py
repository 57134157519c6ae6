import keras
import numpy as np
import pytest

from keras_matting.models.backbones.dilated_resnet_backbone import (
    DilatedResNetBackbone,
    stage_strides_and_rates,
)


def _tiny(**kwargs):
    return DilatedResNetBackbone(
        stackwise_num_filters=[2, 4, 4, 8], stackwise_num_blocks=[1, 1, 1, 1], stem_filters=4,
        **kwargs,
    )


def test_stage_plan_follows_output_stride():
    assert stage_strides_and_rates(4, 8) == [(1, 1), (2, 1), (1, 2), (1, 4)]
    assert stage_strides_and_rates(4, 16) == [(1, 1), (2, 1), (2, 1), (1, 2)]
    assert stage_strides_and_rates(4, 32) == [(1, 1), (2, 1), (2, 1), (2, 1)]
    with pytest.raises(ValueError, match="output_stride"):
        _tiny(output_stride=12)


@pytest.mark.parametrize("output_stride", [8, 16])
def test_tiny_outputs_and_dilation(output_stride):
    backbone = _tiny(output_stride=output_stride)
    out = backbone(np.zeros((1, 64, 96, 4), "float32"))
    assert tuple(out["conv1"].shape) == (1, 32, 48, 4)
    assert tuple(out["conv2"].shape) == (1, 16, 24, 8)
    side = 64 // output_stride, 96 // output_stride
    assert tuple(out["features"].shape) == (1, *side, 32)
    assert tuple(out["pool1_mask"].shape) == (1, 16, 24, 9, 4)
    rates = [backbone.get_layer(f"conv{i}_block1_2_conv").dilation_rate for i in (2, 3, 4, 5)]
    strides = [backbone.get_layer(f"conv{i}_block1_1_conv").strides for i in (2, 3, 4, 5)]
    if output_stride == 8:
        assert rates == [(1, 1), (1, 1), (2, 2), (4, 4)]
        assert strides == [(1, 1), (2, 2), (1, 1), (1, 1)]
    else:
        assert rates == [(1, 1), (1, 1), (1, 1), (2, 2)]
        assert strides == [(1, 1), (2, 2), (2, 2), (1, 1)]
    clone = DilatedResNetBackbone.from_config(backbone.get_config())
    assert clone.get_config() == backbone.get_config()


@pytest.mark.slow
def test_resnet50_preset_names_and_weight_copy(tmp_path):
    """Layer names as keras.applications.ResNet50; its weights copy in by name (one test:
    it builds full ResNet50s; random weights, nothing downloads)."""
    keras.utils.set_random_seed(0)
    source = keras.applications.ResNet50(weights=None)
    # BN statistics away from (0, 1) so the copy of all four BN weights is visible
    for layer in source.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(np.linspace(-0.1, 0.1, n))
            layer.moving_variance.assign(np.linspace(0.5, 1.5, n))
    path = tmp_path / "resnet50.weights.h5"
    source.save_weights(path)

    backbone = DilatedResNetBackbone.from_preset("resnet50")
    top = {"avg_pool", "predictions"}
    assert [layer.name for layer in backbone.layers[1:]] == [
        layer.name for layer in source.layers[1:] if layer.name not in top
    ]
    assert backbone.count_params() == source.count_params() - 2049000 + 7 * 7 * 64

    backbone.load_resnet50_weights(str(path))
    to_np = keras.ops.convert_to_numpy
    kernel = to_np(backbone.get_layer("conv1_conv").kernel)
    np.testing.assert_array_equal(
        kernel[:, :, :3], to_np(source.get_layer("conv1_conv").kernel)[:, :, ::-1]
    )
    np.testing.assert_array_equal(kernel[:, :, 3], 0.0)

    # conv1..conv3 are not dilated: features equal keras' on BGR input, whatever the trimap
    rgb = np.random.default_rng(0).uniform(-100, 100, (1, 224, 224, 3)).astype("float32")
    trimap = np.random.default_rng(1).uniform(-100, 100, (1, 224, 224, 1)).astype("float32")
    ours = keras.Model(backbone.input, backbone.get_layer("conv3_block4_out").output)
    theirs = keras.Model(source.input, source.get_layer("conv3_block4_out").output)
    np.testing.assert_allclose(
        to_np(ours(np.concatenate([rgb, trimap], -1))),
        to_np(theirs(rgb[..., ::-1].copy())), rtol=1e-4, atol=1e-4,
    )

    tiny = _tiny()
    with pytest.raises(ValueError, match="weight shapes|cannot hold"):
        tiny.load_resnet50_weights(source)
