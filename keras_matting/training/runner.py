"""Runs a recipe through ``model.fit`` with checkpoints, resume, TensorBoard and validation.

Layout of ``output_dir``::

    backup/              BackupAndRestore state (resume after a kill)
    checkpoints/         last.keras (every epoch), best.keras (+ .json: lowest val_sad, kept across resumes)
    logs/                TensorBoard: losses, learning rate, validation metrics, sample mattes
    synthetic/           procedural training data, when no --fg-dir is given
    generator.keras      the trained generator (what ``keras_matting.load`` ships)
    config.json          the resolved recipe

One "epoch" is ``steps_per_epoch`` steps: it is the unit of backup, checkpoint and
validation, so a killed run loses at most ``steps_per_epoch`` steps.

Scaling (``--strategy``, see docs/scaling.md): ``--batch-size`` is the global batch,
split evenly over ``num_replicas_in_sync`` replicas. With ``multiworker`` every worker
runs this function; the chief writes the layout above to ``output_dir``, worker ``i``
writes the same layout to ``output_dir/workers/i`` (its own backup, for resuming).
"""

import dataclasses
import json
import os
import time

from keras_matting.errors import MattingInputError
from keras_matting.tempfiles import atomic_save, remove_stale_temporaries, write_json_atomic
from keras_matting.training.alphagan_recipe import AlphaGANRecipe, has_val_folder
from keras_matting.training.igf_recipe import IGFRecipe
from keras_matting.training.recipe_config import check_data_flags, validate_config

RECIPES = {recipe.name: recipe for recipe in (IGFRecipe, AlphaGANRecipe)}

SMOKE_OVERRIDES = {
    "tiny": True,
    "synthetic_count": 4,
    "synthetic_size": 96,
    "crop_size": 64,
    "short_side": 64,
    "batch_size": 2,
    "steps": 2,
    "steps_per_epoch": 1,
    "warmup_steps": 1,
    "val_images": 2,
    "encoder_weights": "none",
}


def smoke_defaults(config_cls):
    """``--smoke`` defaults: tiny models on tiny generated data, a few steps.

    They replace the paper defaults only; flags given explicitly still win.
    """
    known = {f.name for f in dataclasses.fields(config_cls)}
    return {k: v for k, v in SMOKE_OVERRIDES.items() if k in known}


STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


def make_strategy(name):
    """The ``tf.distribute`` strategy of ``--strategy``.

    ``default``: one device; ``mirrored``: all local GPUs (one replica each);
    ``multiworker``: the workers of the ``TF_CONFIG`` environment variable, each with
    all its local GPUs; ``tpu``: the TPU of ``TPU_NAME`` (or the local TPU VM).
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        # Reads the cluster from the TF_CONFIG environment variable; must be created
        # before any other TensorFlow op (run_recipe creates it first).
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy()
    raise MattingInputError(f"--strategy {name!r}: use one of {', '.join(STRATEGIES)}")


def _tpu_strategy():
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise MattingInputError(
            f"--strategy tpu: no TPU found ({reason}); run on a TPU VM or set TPU_NAME"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def worker_output_dir(strategy, output_dir):
    """``output_dir`` on the chief (or without a cluster), ``output_dir/workers/<index>``
    on the other workers of a multi-worker cluster.

    Keras' callbacks are not multi-worker aware: every worker runs them, so each one gets
    its own folder (its own ``backup/`` too, which it restores on a restart). The chief
    is the ``chief`` task, else worker 0 (``MultiWorkerMirroredStrategy``'s convention).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if task_type is None:
        return output_dir
    task_id = int(resolver.task_id or 0)
    jobs = resolver.cluster_spec().jobs
    if task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in jobs):
        return output_dir
    return os.path.join(output_dir, "workers", str(task_id))


def distribute_ready(dataset):
    """Shard a training dataset by element across workers (``AutoShardPolicy.DATA``).

    ``model.fit`` splits each (global) batch over the replicas; across workers the
    default policy would try to shard by input file, but our few files are read once and
    cached, so every worker builds the same seeded stream and keeps its own elements.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA)
    return dataset.with_options(options)


LR_DECAYS = ("cosine", "constant")
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def make_optimizers(config):
    """``(g_optimizer, d_optimizer)``: Adam(beta_1, beta_2) each, with the recipe's
    learning-rate schedule (``gan_trainer_utils.learning_rate_schedule``)."""
    import keras

    from keras_matting.models.gan_trainer_utils import learning_rate_schedule

    def adam():
        schedule = learning_rate_schedule(config.learning_rate, config.steps,
                                          config.warmup_steps,
                                          decay=getattr(config, "lr_decay", "cosine"))
        return keras.optimizers.Adam(schedule, beta_1=config.beta_1, beta_2=config.beta_2)

    return adam(), adam()


def training_data_dirs(config, recipe, output_dir):
    """``(fg_dir, alpha_dir)``: the given folders, or procedural data generated once."""
    if config.fg_dir or config.alpha_dir:
        if not (config.fg_dir and config.alpha_dir):
            raise MattingInputError("give both --fg-dir and --alpha-dir, or neither (synthetic)")
        return config.fg_dir, config.alpha_dir
    from keras_matting.data.synthetic import write_dataset

    root = os.path.join(output_dir, "synthetic")
    done = os.path.join(root, "DONE")
    if not os.path.exists(done):
        textures = config.bg_dir if os.path.isdir(config.bg_dir) else None
        print(f"generating {config.synthetic_count} procedural samples in {root} ...", flush=True)
        stats = write_dataset(root, config.synthetic_count, config.synthetic_size,
                              seed=config.seed, texture_dir=textures, progress=not config.smoke)
        write_json_atomic(done, stats)
    return os.path.join(root, "fg"), os.path.join(root, "alpha")


def smoke_backgrounds(config, output_dir, count=4):
    """A few random-noise backgrounds, so ``--smoke`` needs no data on disk."""
    import cv2
    import numpy as np

    root = os.path.join(output_dir, "smoke_bg")
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    for i in range(count):
        noise = rng.uniform(0, 255, (12, 16, 3)).astype(np.uint8)
        cv2.imwrite(os.path.join(root, f"{i}.png"), cv2.resize(noise, (128, 96)))
    return root


def smoke_validation_dir(config, output_dir):
    """A tiny evaluation folder (image/alpha/mask/trimap) composited from synthetic data."""
    import cv2
    import numpy as np

    from keras_matting.data.synthetic import generate_sample
    from keras_matting.io import write_image
    from keras_matting.protocol import composite, scoring_trimap_np, trimap_to_uint8

    root = os.path.join(output_dir, "smoke_val")
    rng = np.random.default_rng(config.seed + 1)
    for i in range(config.val_images):
        fg, alpha = generate_sample(rng, 80)
        a = alpha.astype(np.float32)[..., None] / 255.0
        bg = rng.uniform(0, 255, (1, 1, 3)) * np.ones_like(a)
        image = composite(a, fg, bg).astype(np.float32) / 255.0
        mask = (alpha > 127).astype(np.uint8)
        trimap = trimap_to_uint8(scoring_trimap_np(mask, 9))
        name = f"{i:03d}.png"
        write_image(os.path.join(root, "image", name), image)
        for sub, array in (("alpha", alpha), ("mask", mask * 255), ("trimap/Trimap1", trimap),
                           ("trimap/Weak", trimap)):
            path = os.path.join(root, sub, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            cv2.imwrite(path, array)
    return root


def build_callbacks(config, recipe, model_ref, output_dir):
    import keras

    from keras_matting.models.gan_trainer_utils import SyncReplicaStatistics
    from keras_matting.training.best_checkpoint import AtomicModelCheckpoint, BestCheckpoint
    from keras_matting.training.matting_validation import MattingValidation

    # Order matters: the replicas' BatchNorm moving statistics agree first; validation adds
    # its metrics to the epoch logs before the checkpoints and TensorBoard read them.
    callbacks = [SyncReplicaStatistics()]
    val_dir = smoke_validation_dir(config, output_dir) if config.smoke else config.val_dir
    best = None
    if has_val_folder(val_dir):
        samples = recipe.validation_samples(config, val_dir)
        samples = _first_per_set(samples, config.val_images)
        sets = {s.get("set", "val") for s in samples}
        score_sets = {k: v for k, v in getattr(recipe, "score_sets", {}).items() if k in sets}
        monitor = getattr(recipe, "monitor", "val_sad") if score_sets else "val_sad"

        def predict_fn(image, condition):
            # what users get: keras_matting.matte's path
            from keras_matting.api import _run

            generator = model_ref().generator
            if recipe.condition == "mask":
                return _run(generator, "mask", image, None, condition)
            return generator.predict_alpha(image, condition)

        callbacks.append(MattingValidation(
            samples, predict_fn, every_epochs=config.validate_every_epochs,
            log_dir=os.path.join(output_dir, "logs"), score_sets=score_sets,
        ))
        best = BestCheckpoint(
            os.path.join(output_dir, "checkpoints", "best.keras"), monitor=monitor, mode="min")
    elif val_dir:
        print(f"note: no validation folder at {val_dir}; training without validation", flush=True)
    checkpoints = os.path.join(output_dir, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    callbacks += [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup"), save_freq="epoch",
                                         delete_checkpoint=False, double_checkpoint=True),
        AtomicModelCheckpoint(os.path.join(checkpoints, "last.keras")),
        *([best] if best is not None else []),
        LearningRateLogger(),
        keras.callbacks.TensorBoard(os.path.join(output_dir, "logs"), update_freq="epoch",
                                    write_graph=False),
    ]
    return callbacks


def _first_per_set(samples, limit):
    """The first ``limit`` samples of each validation set (``--val-images``)."""
    counts, kept = {}, []
    for sample in samples:
        key = sample.get("set", "val")
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= limit:
            kept.append(sample)
    return kept


def _learning_rate_logger_cls():
    import keras

    class _LearningRateLogger(keras.callbacks.Callback):
        """Adds the generator's current learning rate to the epoch logs (for TensorBoard)."""

        def on_epoch_end(self, epoch, logs=None):
            optimizer = getattr(self.model, "g_optimizer", None) or self.model.optimizer
            if logs is not None and optimizer is not None:
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    return _LearningRateLogger


def LearningRateLogger():  # noqa: N802 - a factory that keeps keras out of module import
    return _learning_rate_logger_cls()()


RESUME_SEED_STRIDE = 7919


def backed_up_epoch(output_dir):
    """The epoch ``BackupAndRestore`` will resume from (0 for a fresh run)."""
    path = os.path.join(output_dir, "backup", "training_metadata.json")
    try:
        with open(path) as f:
            return int(json.load(f).get("epoch", 0))
    except (OSError, ValueError):
        return 0


def _previous_run(output_dir, epochs):
    """The ``summary.json`` of a run in ``output_dir`` that already trained ``epochs``, or None."""
    summary = os.path.join(output_dir, "summary.json")
    if backed_up_epoch(output_dir) < epochs or not os.path.isfile(
            os.path.join(output_dir, "generator.keras")):
        return None
    try:
        with open(summary) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _remove_stale_temporaries(output_dir):
    """Temporaries of saves a kill interrupted (``.best.tmp-1a2b3c4d.keras``, ...)."""
    for sub in ("", "checkpoints", os.path.join("synthetic", "fg"),
                os.path.join("synthetic", "alpha")):
        remove_stale_temporaries(os.path.join(output_dir, sub))


def run_recipe(recipe, config):
    """Train ``recipe`` (``IGFRecipe`` or ``AlphaGANRecipe``) with ``config``; returns the history.

    A run whose ``output_dir`` has a backup resumes from it (and says so); one that
    already trained all its steps says it is finished and returns its recorded history.
    """
    validate_config(config)
    # the CLI checks these too; a Python caller gets the same one line before any work
    config = check_data_flags(config, recipe.name)
    if getattr(config, "lr_decay", "cosine") not in LR_DECAYS:
        raise MattingInputError(
            f"--lr-decay {config.lr_decay!r}: use one of {', '.join(LR_DECAYS)}")
    if getattr(config, "dtype_policy", "float32") not in DTYPE_POLICIES:
        raise MattingInputError(
            f"--dtype-policy {config.dtype_policy!r}: use one of {', '.join(DTYPE_POLICIES)}")
    # First: MultiWorkerMirroredStrategy must be created before any other TensorFlow op.
    strategy = make_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise MattingInputError(
            f"--batch-size {config.batch_size} is the global batch and must be a multiple of "
            f"the {replicas} replicas of --strategy {config.strategy}"
        )
    output_dir = worker_output_dir(strategy, config.output_dir)
    if output_dir != config.output_dir:
        print(f"not the chief worker: writing to {output_dir}", flush=True)
    os.makedirs(output_dir, exist_ok=True)
    epochs = max(1, -(-config.steps // config.steps_per_epoch))
    previous = _previous_run(output_dir, epochs)
    if previous is not None:
        import keras

        done = backed_up_epoch(output_dir) * config.steps_per_epoch
        print(f"{output_dir} is already finished: {done} steps trained (--steps "
              f"{config.steps}); the model is {os.path.join(output_dir, 'generator.keras')}, "
              f"its history {os.path.join(output_dir, 'summary.json')}. Raise --steps to train "
              "on, or give a new --output-dir to start over.", flush=True)
        history = keras.callbacks.History()
        history.history = previous.get("history", {})
        return history
    _remove_stale_temporaries(output_dir)
    if config.smoke:
        config = dataclasses.replace(config, bg_dir=smoke_backgrounds(config, output_dir))
    _write_json(os.path.join(output_dir, "config.json"), dataclasses.asdict(config))
    if replicas > 1:
        print(f"{replicas} replicas: global batch {config.batch_size}, "
              f"{config.batch_size // replicas} per replica", flush=True)

    fg_dir, alpha_dir = training_data_dirs(config, recipe, output_dir)
    # A resumed run continues with fresh samples instead of replaying the first epochs.
    resumed_epoch = backed_up_epoch(output_dir)
    if resumed_epoch:
        print(f"resuming from {os.path.join(output_dir, 'backup')} after epoch {resumed_epoch} of "
              f"{epochs} (step {resumed_epoch * config.steps_per_epoch} of "
              f"{epochs * config.steps_per_epoch})", flush=True)
    data_seed = config.seed + RESUME_SEED_STRIDE * resumed_epoch
    dataset = distribute_ready(recipe.build_dataset(config, fg_dir, alpha_dir, seed=data_seed))
    with strategy.scope():
        model = _build_under_policy(recipe, config)
        if config.init_weights:
            _warm_start(model, config.init_weights)
        g_optimizer, d_optimizer = make_optimizers(config)
        recipe.compile(model, config, g_optimizer, d_optimizer)

    callbacks = build_callbacks(config, recipe, lambda: model, output_dir)
    start = time.perf_counter()
    # shuffle=False: the dataset shuffles itself (Keras would warn that it ignores True)
    history = model.fit(dataset, epochs=epochs, steps_per_epoch=config.steps_per_epoch,
                        callbacks=callbacks, verbose=2 if config.smoke else "auto",
                        shuffle=False)
    seconds = time.perf_counter() - start
    generator_path = os.path.join(output_dir, "generator.keras")
    atomic_save(generator_path, model.generator.save)
    _write_json(os.path.join(output_dir, "summary.json"), {
        "recipe": recipe.name, "epochs": epochs, "steps": epochs * config.steps_per_epoch,
        "replicas": replicas, "global_batch": config.batch_size,
        "seconds_this_run": seconds, "resumed_at_epoch": resumed_epoch,
        "generator": generator_path,
        "history": {k: [float(x) for x in v] for k, v in history.history.items()},
    })
    print(f"saved {generator_path} after {seconds:.0f} s", flush=True)
    return history


def _build_under_policy(recipe, config):
    """``recipe.build_model(config)`` with its networks' layers under ``--dtype-policy``."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(getattr(config, "dtype_policy", "float32"))
    try:
        return recipe.build_model(config)
    finally:
        keras.config.set_dtype_policy(previous)


def _warm_start(model, path):
    """Load generator weights from a ``.keras`` generator or trainer file (or its parts)."""
    from keras_matting.saving import load_compact

    loaded = load_compact(path, safe_mode=True, compile=False)
    source = getattr(loaded, "generator", loaded)
    target = model.generator
    shapes = [tuple(w.shape) for w in source.weights]
    expected = [tuple(w.shape) for w in target.weights]
    if type(source).__name__ != type(target).__name__ or shapes != expected:
        raise MattingInputError(
            f"--init-weights {path}: its {type(source).__name__} ({len(shapes)} weights, "
            f"{_count(shapes)} values) does not match this recipe's {type(target).__name__} "
            f"({len(expected)} weights, {_count(expected)} values); pass a model trained "
            "with the same recipe flags (--tiny, --guided-filter-prior, --mask-band-radius ...)"
        )
    target.set_weights(source.get_weights())
    print(f"initialised the generator from {path}", flush=True)


def _count(shapes):
    total = 0
    for shape in shapes:
        size = 1
        for dim in shape:
            size *= int(dim)
        total += size
    return total


def _write_json(path, data):
    write_json_atomic(path, data, indent=2)
