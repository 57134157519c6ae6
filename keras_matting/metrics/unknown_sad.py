import keras
from keras import ops

from keras_matting.metrics._unknown_region import image_weights, split_inputs


@keras.saving.register_keras_serializable(package="keras_matting")
class UnknownSAD(keras.metrics.Metric):
    """Mean over images of the SAD in the trimap's unknown region, divided by 1000.

    Per image ``sum_U |alpha_pred - alpha_true| / 1000`` with ``U`` the unknown region,
    averaged over the images seen (weighted by ``sample_weight`` per image). It equals
    :func:`keras_matting.metrics.sad` with ``quantize=False``: float alphas are scored as
    given, without the 8-bit quantisation of the reference protocol, and the prediction
    is not clamped.

    Args:
        name: metric name.
        dtype: dtype of the computation and the result.

    Example:

    ```python
    # in model.compile: y_true stacks [alpha, trimap in {0, 0.5, 1}] on the last axis
    model.compile(loss=..., metrics=[UnknownSAD()])
    # in a custom train_step / test_step
    metric.update_state(alpha_true, alpha_pred, trimap=trimap)
    ```

    Reference:
        Rhemann et al., A Perceptually Motivated Online Benchmark for Image Matting,
        CVPR 2009.
    """

    def __init__(self, name="unknown_sad", dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None, trimap=None):
        """Accumulate a batch.

        Args:
            y_true: ground-truth alpha ``(batch, h, w[, 1])``, or ``[alpha, trimap]``
                stacked ``(batch, h, w, 2)`` when ``trimap`` is None.
            y_pred: predicted alpha ``(batch, h, w[, 1])``.
            sample_weight: optional per-image weights ``(batch,)``.
            trimap: optional trimap ``(batch, h, w[, 1])``, float {0, 0.5, 1} or
                integer {0, 128, 255}.
        """
        alpha_true, alpha_pred, unknown = split_inputs(y_true, y_pred, trimap, self.dtype)
        per_image = ops.sum(ops.abs(alpha_pred - alpha_true) * unknown, axis=(1, 2)) / 1000.0
        weights = image_weights(sample_weight, ops.shape(per_image)[0], self.dtype)
        self.total.assign_add(ops.sum(per_image * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.divide_no_nan(self.total, self.count)
