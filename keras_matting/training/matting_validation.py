"""Validation on a real evaluation folder during ``model.fit``."""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_matting import metrics


class MattingValidation(keras.callbacks.Callback):
    """Scores the generator on real images every few epochs with the package metrics.

    Each sample is a dict with ``name``, ``image`` (HxWx3 float32 in [0, 1]),
    ``condition`` (HxW float32: the trimap in {0, 0.5, 1} or the mask in {0, 1}),
    ``alpha`` (HxW uint8 ground truth) and ``scoring_trimap`` (HxW uint8 in
    {0, 128, 255}). The prediction is clamped to the scoring trimap's known regions
    and scored in 8 bits (the standard protocol), and the means are added to the
    epoch logs as ``val_sad``, ``val_mse``, ``val_grad`` and ``val_conn`` so that
    ``ModelCheckpoint(monitor="val_sad")`` and ``TensorBoard`` see them (place this
    callback before those two).

    Args:
        samples: list of sample dicts as above.
        predict_fn: ``predict_fn(image, condition) -> alpha`` (HxW float32 numpy).
        every_epochs: validate when ``(epoch + 1) % every_epochs == 0``.
        log_dir: if set, a few ``[image | prediction | truth]`` strips are written
            to ``log_dir/samples`` as TensorBoard images.
        num_image_samples: how many image strips to log.
        compute_grad_conn: also compute Grad and Conn (slower).
    """

    def __init__(self, samples, predict_fn, every_epochs=1, log_dir=None,
                 num_image_samples=3, compute_grad_conn=True):
        super().__init__()
        self.samples = list(samples)
        self.predict_fn = predict_fn
        self.every_epochs = max(1, int(every_epochs))
        self.log_dir = log_dir
        self.num_image_samples = num_image_samples
        self.compute_grad_conn = compute_grad_conn
        self._writer = None

    def evaluate(self):
        """Return ``(means, per_image, predictions)`` over all samples."""
        per_image, predictions = {}, {}
        start = time.perf_counter()
        for sample in self.samples:
            alpha = self.predict_fn(sample["image"], sample["condition"])
            pred8 = metrics.clamp_known(np.clip(alpha, 0.0, 1.0), sample["scoring_trimap"])
            gt = sample["alpha"]
            trimap = sample["scoring_trimap"]
            scores = {"sad": metrics.sad(pred8, gt, trimap), "mse": metrics.mse(pred8, gt, trimap)}
            if self.compute_grad_conn:
                scores["grad"] = metrics.gradient_error(pred8, gt, trimap)
                scores["conn"] = metrics.connectivity_error(pred8, gt, trimap)
            per_image[sample["name"]] = scores
            predictions[sample["name"]] = alpha
        keys = next(iter(per_image.values())).keys() if per_image else []
        means = {k: float(np.mean([s[k] for s in per_image.values()])) for k in keys}
        means["seconds"] = time.perf_counter() - start
        return means, per_image, predictions

    def on_epoch_end(self, epoch, logs=None):
        if not self.samples or (epoch + 1) % self.every_epochs:
            return
        means, _, predictions = self.evaluate()
        if logs is not None:
            for key, value in means.items():
                if key != "seconds":
                    logs[f"val_{key}"] = value
        summary = ", ".join(f"{k} {v:.4g}" for k, v in means.items())
        print(f"\nvalidation on {len(self.samples)} images: {summary}", flush=True)
        if self.log_dir:
            self._write_images(epoch, predictions)

    def _write_images(self, epoch, predictions):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "samples"))
        step = training_step(self.model, default=epoch)
        with self._writer.as_default(step=step):
            for sample in self.samples[: self.num_image_samples]:
                strip = _strip(sample, predictions[sample["name"]])
                tf.summary.image(f"matte/{sample['name']}", strip[None], max_outputs=1)
        self._writer.flush()


def training_step(model, default=0):
    """The generator optimizer's iteration count (GAN trainers), else the model's."""
    for name in ("g_optimizer", "optimizer"):
        optimizer = getattr(model, name, None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            return int(optimizer.iterations.numpy())
    return default


def _strip(sample, alpha):
    """``[image | predicted alpha | true alpha]`` as one float image for TensorBoard."""
    truth = sample["alpha"].astype(np.float32) / 255.0
    return np.concatenate([sample["image"], _gray(np.clip(alpha, 0, 1)), _gray(truth)], axis=1)


def _gray(alpha):
    return np.repeat(np.asarray(alpha, np.float32)[..., None], 3, axis=-1)
