"""Validation on a real evaluation folder during ``model.fit``."""

import os
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_matting import metrics
from keras_matting.metrics.whole_image import whole_image_scores


class MattingValidation(keras.callbacks.Callback):
    """Scores the generator on real images every few epochs: the band and what users see.

    Each sample is a dict with ``name``, ``image`` (HxWx3 float32 in [0, 1]),
    ``condition`` (HxW float32: the trimap in {0, 0.5, 1} or the mask in {0, 1}),
    ``alpha`` (HxW uint8 ground truth), ``scoring_trimap`` (HxW uint8 in
    {0, 128, 255}) and optionally ``set`` (the validation set it belongs to).

    Two kinds of measures, per set:

    - the standard protocol: the prediction clamped to the scoring trimap's known
      regions, scored in 8 bits over its unknown region (``sad``, ``mse``, ``grad``,
      ``conn``);
    - what users see, on the unclamped prediction
      (:func:`~keras_matting.metrics.whole_image.whole_image_scores`): ``whole_sad``,
      ``whole_mse``, ``band_sad``, ``holes_pct``, ``halo_pct``.

    Logs (so that ``ModelCheckpoint``/``TensorBoard`` see them; place this callback
    before those): ``val_<key>`` for the first set (back-compatible ``val_sad``),
    ``val_<set>_<key>`` for every set, and, with ``score_sets``, ``val_score``:

        val_score = mean over the scored sets of
            0.5 * band / band(guided filter) + 0.5 * whole_sad / whole_sad(mask)
            + 0.02 * (holes_pct + halo_pct)

    where ``band`` is the set's ``band_key`` measure and the guided filter's and the
    mask's values are computed once on the same samples: 1.0 means "as good as the
    fast guided filter in the band and as the raw mask on the whole image"; one point
    of holes or halo costs as much as 2 % of relative SAD. Lower is better.

    Args:
        samples: list of sample dicts as above.
        predict_fn: ``predict_fn(image, condition) -> alpha`` (HxW float32 numpy).
        every_epochs: validate when ``(epoch + 1) % every_epochs == 0``.
        log_dir: if set, a few ``[image | prediction | truth]`` strips are written
            to ``log_dir/samples`` as TensorBoard images.
        num_image_samples: how many image strips to log.
        compute_grad_conn: also compute Grad and Conn (slower).
        score_sets: ``{set: band_key}`` of the sets that make ``val_score`` (mask-guided
            sets only: the references are the fast guided filter and the mask); None
            for no score.
    """

    def __init__(self, samples, predict_fn, every_epochs=1, log_dir=None,
                 num_image_samples=3, compute_grad_conn=True, score_sets=None):
        super().__init__()
        self.samples = list(samples)
        self.predict_fn = predict_fn
        self.every_epochs = max(1, int(every_epochs))
        self.log_dir = log_dir
        self.num_image_samples = num_image_samples
        self.compute_grad_conn = compute_grad_conn
        self.score_sets = dict(score_sets or {})
        self._references = None
        self._writer = None

    def score_image(self, alpha, sample):
        """Standard and user-view errors of one prediction."""
        pred8 = metrics.clamp_known(np.clip(alpha, 0.0, 1.0), sample["scoring_trimap"])
        gt = sample["alpha"]
        trimap = sample["scoring_trimap"]
        scores = {"sad": metrics.sad(pred8, gt, trimap), "mse": metrics.mse(pred8, gt, trimap)}
        if self.compute_grad_conn:
            scores["grad"] = metrics.gradient_error(pred8, gt, trimap)
            scores["conn"] = metrics.connectivity_error(pred8, gt, trimap)
        scores.update(whole_image_scores(alpha, gt))
        return scores

    def _set_means(self, per_image):
        groups = {}
        for sample in self.samples:
            groups.setdefault(sample.get("set", "val"), []).append(per_image[sample["name"]])
        with warnings.catch_warnings():  # holes/halo are NaN where a region is empty
            warnings.simplefilter("ignore", RuntimeWarning)
            return {
                name: {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
                for name, rows in groups.items()
            }

    def references(self):
        """Per-set means of the fast guided filter and of the mask (computed once)."""
        if self._references is None:
            from keras_matting.filters.guided_filter import fast_guided_filter
            from keras_matting.protocol import GUIDED_FILTER

            refs = {}
            for label, fn in (
                ("guided_filter", lambda s: fast_guided_filter(s["image"], s["condition"],
                                                               **GUIDED_FILTER)),
                ("mask", lambda s: s["condition"]),
            ):
                per_image = {s["name"]: self.score_image(np.clip(fn(s), 0, 1), s)
                             for s in self.samples}
                refs[label] = self._set_means(per_image)
            self._references = refs
        return self._references

    def combined_score(self, set_means):
        """``val_score`` of per-set means (see the class docstring)."""
        refs = self.references()
        terms = []
        for name, band_key in self.score_sets.items():
            m = set_means[name]
            band = m[band_key] / max(refs["guided_filter"][name][band_key], 1e-9)
            whole = m["whole_sad"] / max(refs["mask"][name]["whole_sad"], 1e-9)
            defects = np.nan_to_num(m["holes_pct"]) + np.nan_to_num(m["halo_pct"])
            terms.append(0.5 * band + 0.5 * whole + 0.02 * defects)
        return float(np.mean(terms))

    def evaluate(self):
        """Return ``(means, per_image, predictions)``; ``means[set][key]`` per set."""
        per_image, predictions = {}, {}
        start = time.perf_counter()
        for sample in self.samples:
            alpha = self.predict_fn(sample["image"], sample["condition"])
            per_image[sample["name"]] = self.score_image(alpha, sample)
            predictions[sample["name"]] = alpha
        means = self._set_means(per_image) if per_image else {}
        if self.score_sets and per_image:
            means["score"] = self.combined_score(means)
        means["seconds"] = time.perf_counter() - start
        return means, per_image, predictions

    def on_epoch_end(self, epoch, logs=None):
        if not self.samples or (epoch + 1) % self.every_epochs:
            return
        means, _, predictions = self.evaluate()
        sets = [k for k in means if isinstance(means[k], dict)]
        if logs is not None:
            for i, name in enumerate(sets):
                for key, value in means[name].items():
                    logs[f"val_{name}_{key}"] = value
                    if i == 0:
                        logs[f"val_{key}"] = value
            if "score" in means:
                logs["val_score"] = means["score"]
        for name in sets:
            summary = ", ".join(f"{k} {v:.4g}" for k, v in means[name].items())
            print(f"\nvalidation on {name}: {summary}", flush=True)
        if "score" in means:
            print(f"validation score (lower is better): {means['score']:.4f}", flush=True)
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
