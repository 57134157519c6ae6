import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from keras_matting.cli import train
from keras_matting.errors import MattingInputError

SMOKE = ["--smoke", "--jit-compile", "false"]


@pytest.mark.parametrize("recipe", ["igf", "alphagan"])
@pytest.mark.slow
def test_smoke_recipe_trains_validates_and_saves(recipe, tmp_path):
    out = tmp_path / recipe
    assert train.main([recipe, *SMOKE, "--output-dir", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    history = summary["history"]
    assert summary["steps"] == 2
    for key in ("g_loss", "d_loss", "val_sad", "val_mse", "val_grad", "val_conn", "learning_rate"):
        assert len(history[key]) == 2, key
        assert all(v == v and abs(v) < 1e6 for v in history[key]), (key, history[key])
    for path in ("generator.keras", "checkpoints/last.keras", "checkpoints/best.keras",
                 "backup/latest.weights.h5", "config.json"):
        assert (out / path).exists(), path
    assert any((out / "logs" / "train").iterdir())
    assert any((out / "logs" / "samples").iterdir())


def test_unknown_flag_is_an_error(capsys):
    with pytest.raises(SystemExit) as exc:
        train.parse_args(["igf", "--no-such-key", "1"])
    assert exc.value.code == 2
    assert "--no-such-key" in capsys.readouterr().err


def test_flags_override_paper_defaults():
    recipe, config = train.parse_args(["igf", "--batch-size", "3", "--gabor-loss-weight", "5",
                                       "--jit-compile", "false"])
    assert recipe.name == "igf"
    assert (config.batch_size, config.gabor_loss_weight, config.jit_compile) == (3, 5.0, False)
    _, default = train.parse_args(["igf"])
    assert (default.crop_size, default.learning_rate, default.beta_1) == (512, 1e-4, 0.5)
    assert (default.global_loss_weight, default.local_loss_weight) == (10.0, 1.0)
    assert (default.gabor_loss_weight, default.adversarial_loss_weight) == (200.0, 1.0)
    _, alphagan = train.parse_args(["alphagan"])
    assert alphagan.crop_size == 320


def test_config_file_with_unknown_key_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"batch_size": 2, "bogus": 1}))
    with pytest.raises(MattingInputError, match="bogus"):
        train.parse_args(["igf", "--config", str(path)])


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.slow
def test_killed_training_resumes_from_backup(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "keras_matting", "train", "igf", *SMOKE,
           "--steps", "40", "--output-dir", str(out)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    meta = out / "backup" / "training_metadata.json"

    def backed_up_epochs():
        try:
            return json.loads(meta.read_text())["epoch"]
        except (OSError, ValueError):
            return 0

    log = tmp_path / "first.log"
    with open(log, "w") as sink:
        first = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        ready = _wait_for(lambda: backed_up_epochs() >= 3 or first.poll() is not None, timeout=900)
        assert ready and first.poll() is None, f"no backup written:\n{log.read_text()[-3000:]}"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    resumed_at = backed_up_epochs()
    assert 3 <= resumed_at < 40
    assert not (out / "summary.json").exists()

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    assert re.search(rf"resuming from {re.escape(str(out / 'backup'))} after epoch \d+ of 40",
                     second.stdout)
    history = json.loads((out / "summary.json").read_text())["history"]
    # Only the epochs after the last backup ran again (each epoch is one step here). A kill
    # in the middle of writing the backup falls back to the previous one (double_checkpoint).
    first_epoch = int(re.search(r"Epoch (\d+)/40", second.stdout).group(1))
    assert first_epoch - 1 in (resumed_at, resumed_at - 1)
    assert first_epoch > 1
    assert len(history["g_loss"]) == 41 - first_epoch


@pytest.mark.parametrize("recipe", ["igf", "alphagan"])
def test_data_flags_without_a_default_are_required_before_any_work(recipe, tmp_path, capsys):
    from keras_matting.training.recipe_config import check_data_flags

    out = tmp_path / "run"
    assert train.main([recipe, "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--bg-dir" in err and "--val-dir" in err, err
    assert "--fg-dir" not in err  # procedural data is its usable default
    bg = tmp_path / "bg"
    bg.mkdir()
    args = [recipe, "--bg-dir", str(bg), "--val-dir", str(tmp_path / "no_val"),
            "--output-dir", str(out)]
    assert train.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--val-dir" in err and "no_val' is not a folder" in err
    assert not out.exists()  # refused before anything ran
    _, config = train.parse_args([recipe, "--bg-dir", str(bg), "--val-dir", "None"])
    assert check_data_flags(config, recipe).val_dir is None  # 'none': no validation
    _, smoke = train.parse_args([recipe, "--smoke"])
    assert check_data_flags(smoke, recipe) == smoke


def test_smoke_presets_yield_to_explicit_flags():
    _, config = train.parse_args(["igf", "--smoke", "--steps", "5"])
    assert config.smoke and config.tiny and config.crop_size == 64
    assert config.steps == 5


@pytest.mark.parametrize("flag, value", [("--steps", "-5"), ("--steps", "0"),
                                         ("--steps-per-epoch", "0"), ("--batch-size", "-2")])
def test_non_positive_counts_are_refused_in_one_line(flag, value, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(["igf", *SMOKE, flag, value, "--output-dir", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"keras-matting: error: {flag} {value}: must be a whole number >= 1\n"
    assert not out.exists()  # refused before anything ran


def test_non_positive_count_in_config_file_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"steps": -5}))
    with pytest.raises(MattingInputError, match="--steps -5"):
        train.parse_args(["igf", "--config", str(path)])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished ``--smoke`` run (2 steps)."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert train.main(["igf", *SMOKE, "--output-dir", str(out)]) == 0
    return out


@pytest.mark.slow
def test_finished_run_says_so_and_keeps_its_summary(finished_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    summary = (out / "summary.json").read_bytes()
    generator_mtime = os.stat(out / "generator.keras").st_mtime_ns

    assert train.main(["igf", *SMOKE, "--output-dir", str(out)]) == 0  # nothing left to do
    printed = capsys.readouterr().out
    assert f"{out} is already finished: 2 steps trained" in printed
    assert "Epoch" not in printed
    assert (out / "summary.json").read_bytes() == summary  # not emptied
    assert os.stat(out / "generator.keras").st_mtime_ns == generator_mtime


@pytest.mark.slow
def test_longer_run_resumes_and_removes_stale_temporaries(finished_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    # temporaries a kill left: removed once stale (an hour old), kept while fresh
    stale = out / "checkpoints" / ".best.tmp-0123abcd.keras"
    fresh = out / ".summary.tmp-89ab4567.json"
    for path in (stale, fresh):
        path.write_bytes(b"PK\x03\x04")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    assert train.main(["igf", *SMOKE, "--steps", "3", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"resuming from {out / 'backup'} after epoch 2 of 3 (step 2 of 3)" in printed
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["resumed_at_epoch"] == 2 and len(resumed["history"]["g_loss"]) == 1
    assert not stale.exists() and fresh.exists()


def test_learning_rate_schedules_of_the_recipes():
    """IGF: warm-up then cosine decay to 0 (paper 3.4); AlphaGAN: constant 2e-4 (pix2pix)."""
    import keras

    from keras_matting.training.runner import make_optimizers

    _, igf = train.parse_args(["igf", "--steps", "110", "--warmup-steps", "10"])
    g_optimizer, d_optimizer = make_optimizers(igf)
    assert g_optimizer is not d_optimizer
    schedule = keras.optimizers.schedules.deserialize(g_optimizer.get_config()["learning_rate"])
    rates = [float(schedule(step)) for step in (0, 5, 10, 60, 110)]
    assert rates == pytest.approx([0.0, 5e-5, 1e-4, 5e-5, 0.0], abs=1e-9)
    _, alphagan = train.parse_args(["alphagan"])
    assert alphagan.lr_decay == "constant"
    g_optimizer, _ = make_optimizers(alphagan)
    assert g_optimizer.get_config()["learning_rate"] == pytest.approx(2e-4)
    _, warm = train.parse_args(["alphagan", "--warmup-steps", "10", "--steps", "100"])
    schedule = keras.optimizers.schedules.deserialize(
        make_optimizers(warm)[0].get_config()["learning_rate"])
    rates = [float(schedule(step)) for step in (0, 5, 10, 50, 100)]
    assert rates == pytest.approx([0.0, 1e-4, 2e-4, 2e-4, 2e-4], abs=1e-9)


@pytest.mark.slow
def test_init_weights_of_another_architecture_is_refused_in_one_line(tmp_path):
    from keras_matting.models.igf import IGFGenerator
    from keras_matting.training.igf_recipe import IGFRecipe
    from keras_matting.training.runner import _warm_start

    _, config = train.parse_args(["igf", "--tiny"])
    model = IGFRecipe.build_model(config)
    other = tmp_path / "other.keras"
    IGFGenerator(encoder_channels=(4, 4, 4, 4, 4), decoder_channels=(4, 4, 4)).save(other)
    with pytest.raises(MattingInputError, match="does not match") as exc:
        _warm_start(model, str(other))
    assert "\n" not in str(exc.value)
    same = tmp_path / "same.keras"
    source = IGFRecipe.build_model(config).generator
    source.save(same)
    _warm_start(model, str(same))
    for a, b in zip(model.generator.weights, source.weights, strict=True):
        assert (a.numpy() == b.numpy()).all()


def test_unknown_lr_decay_is_refused_before_any_work(tmp_path):
    from keras_matting.training.runner import run_recipe

    out = tmp_path / "run"
    recipe, config = train.parse_args(["alphagan", *SMOKE, "--lr-decay", "linear",
                                       "--output-dir", str(out)])
    with pytest.raises(MattingInputError, match="--lr-decay 'linear'") as exc:
        run_recipe(recipe, config)
    assert "\n" not in str(exc.value) and not out.exists()


@pytest.mark.parametrize("recipe,policy", [("igf", "mixed_bfloat16"),
                                           ("alphagan", "mixed_float16")])
def test_smoke_recipe_trains_under_a_mixed_dtype_policy(recipe, policy, tmp_path):
    import keras
    import numpy as np

    import keras_matting.models.alphagan  # noqa: F401 - registers the classes
    import keras_matting.models.igf  # noqa: F401

    out = tmp_path / recipe
    assert train.main([recipe, *SMOKE, "--dtype-policy", policy, "--output-dir", str(out)]) == 0
    history = json.loads((out / "summary.json").read_text())["history"]
    assert all(np.isfinite(v).all() for k, v in history.items() if "pct" not in k), history
    trainer = keras.saving.load_model(out / "checkpoints" / "last.keras", safe_mode=True)
    # The networks' configs are their constructor arguments: the saved model loads
    # (and exports) in float32, the policy of the process.
    assert {layer.dtype_policy.name for layer in trainer.generator.layers} == {"float32"}
    assert trainer.optimizer is trainer.g_optimizer
    assert isinstance(trainer.g_optimizer, keras.optimizers.LossScaleOptimizer) == (
        policy == "mixed_float16")
    generator = keras.saving.load_model(out / "generator.keras", safe_mode=True, compile=False)
    condition = np.ones((32, 32), "float32")
    if recipe == "alphagan":
        condition[8:24, 8:24] = 0.5
    alpha = generator.predict_alpha(np.full((32, 32, 3), 0.5, "float32"), condition)
    assert alpha.dtype == np.float32 and np.isfinite(alpha).all()


def test_run_recipe_from_python_checks_the_data_flags_first(tmp_path):
    from keras_matting.training.runner import run_recipe

    out = tmp_path / "run"
    recipe, config = train.parse_args(["igf", "--output-dir", str(out)])
    with pytest.raises(MattingInputError, match="--bg-dir") as exc:
        run_recipe(recipe, config)
    assert "\n" not in str(exc.value) and not out.exists()


@pytest.mark.parametrize("recipe,module,builder", [
    ("igf", "keras_matting.data.igf_dataset", "build_igf_dataset"),
    ("alphagan", "keras_matting.data.alphagan_dataset", "build_alphagan_dataset"),
])
def test_cache_flag_reaches_the_data_builder(recipe, module, builder, monkeypatch, tmp_path):
    import importlib

    seen = []
    monkeypatch.setattr(importlib.import_module(module), builder,
                        lambda *a, **kw: seen.append(kw["cache"]))
    folder = str(tmp_path / "cache")
    for flag, expected in [("auto", "auto"), ("memory", True), ("none", False),
                           (folder, folder)]:
        recipe_cls, config = train.parse_args([recipe, "--cache", flag])
        recipe_cls.build_dataset(config, "fg", "alpha", seed=0)
        assert seen[-1] == expected
