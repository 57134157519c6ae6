"""Floating-point operations of one forward pass, from the frozen static-shape graph."""

__all__ = ["generator_gflops"]


def generator_gflops(generator, size):
    """GFLOPs (2 x multiply-adds) of one ``size = (H, W)`` image through the exported function.

    Counted by TensorFlow's profiler on the frozen graph (convolutions, transposed
    convolutions, matrix products, element-wise arithmetic; BatchNormalization and resizes
    are not counted: BN is folded into the convolutions at export, bilinear resizes are
    a few FLOPs per output pixel).
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from keras_matting.export.serving import padded_alpha, serving_specs

    fn = tf.function(
        lambda image, guide: padded_alpha(generator, image, guide),
        input_signature=serving_specs(generator, size=size, batch=1),
    )
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel("ERROR")  # the v1 profiler warns about deprecated shape helpers
    try:
        profile = tf.compat.v1.profiler.profile(graph=frozen.graph, options=options)
    finally:
        logger.setLevel(level)
    return profile.total_float_ops / 1e9
