"""Recipe configurations: every hyper-parameter of a paper as a dataclass default.

A recipe is a dataclass; :func:`build_parser` turns its fields into command-line
flags (``batch_size`` -> ``--batch-size``) so each one can be overridden, and
:func:`load_config_file` reads JSON overrides. Unknown keys are an error in both.
"""

import argparse
import dataclasses
import json
import typing

from keras_matting.errors import MattingInputError

# Data flags with no usable default: what they hold, for the error that names them.
REQUIRED_DATA_FLAGS = {
    "bg_dir": "a folder of background photos",
    "val_dir": "an evaluation folder (image/, alpha/, mask/ or trimap/NAME/) or 'none'",
}
NO_VALIDATION = "none"


@dataclasses.dataclass
class RecipeConfig:
    """Settings common to both recipes (data, schedule, checkpoints, scaling)."""

    fg_dir: typing.Optional[str] = None
    alpha_dir: typing.Optional[str] = None
    dataset_dir: typing.Optional[str] = None
    dataset_layout: str = "auto"
    bg_dir: typing.Optional[str] = None
    # Decoded foregrounds/backgrounds: "auto" (in memory when they fit in a quarter of
    # the memory), "memory", "none" or a folder for a file cache (decoded once).
    cache: str = "auto"
    synthetic_count: int = 1000
    synthetic_size: int = 800
    val_dir: typing.Optional[str] = None
    val_images: int = 14
    output_dir: str = "runs/recipe"
    steps: int = 100_000
    steps_per_epoch: int = 500
    validate_every_epochs: int = 1
    batch_size: int = 8
    crop_size: int = 512
    learning_rate: float = 1e-4
    warmup_steps: int = 1000
    beta_1: float = 0.5
    beta_2: float = 0.999
    jit_compile: bool = True
    strategy: str = "default"
    seed: int = 0
    init_weights: typing.Optional[str] = None
    tiny: bool = False
    smoke: bool = False


def _flag(name):
    return "--" + name.replace("_", "-")


def _parse_bool(text):
    lowered = str(text).lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _field_type(config_cls, field):
    hint = typing.get_type_hints(config_cls)[field.name]  # also resolves string annotations
    args = typing.get_args(hint)
    if args:  # Optional[X]
        hint = next(a for a in args if a is not type(None))
    return _parse_bool if hint is bool else hint


def build_parser(config_cls, prog, description):
    """An ``argparse`` parser with one flag per field of ``config_cls``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", help="JSON file of overrides (unknown keys are an error)")
    for field in dataclasses.fields(config_cls):
        default = field.default
        kind = _field_type(config_cls, field)
        extra = {"nargs": "?", "const": True, "metavar": "BOOL"} if kind is _parse_bool else {}
        parser.add_argument(
            _flag(field.name),
            dest=field.name,
            type=kind,
            default=None,
            help=f"default: {default}",
            **extra,
        )
    return parser


def load_config_file(path, config_cls):
    """Read JSON overrides, refusing keys that are not fields of ``config_cls``."""
    try:
        with open(path) as f:
            values = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise MattingInputError(f"{path}: cannot read the recipe config ({exc})") from None
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise MattingInputError(
            f"{path}: unknown recipe keys {unknown}; valid keys: {sorted(known)}"
        )
    return values


# counts that must be at least 1 (when the recipe has them)
POSITIVE_FIELDS = ("steps", "steps_per_epoch", "batch_size", "crop_size", "short_side",
                   "synthetic_count", "synthetic_size", "validate_every_epochs")


def validate_config(config):
    """Refuse counts below 1 (``--steps -5``) with one line: ``MattingInputError``."""
    known = {f.name for f in dataclasses.fields(config)}
    for name in POSITIVE_FIELDS:
        if name not in known:
            continue
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MattingInputError(f"{_flag(name)} {value!r}: must be a whole number >= 1")
    return config


def dataset_cache(config):
    """The data builders' ``cache`` argument for ``config.cache``."""
    return {"auto": "auto", "memory": True, "none": False}.get(config.cache, config.cache)


def check_data_flags(config, recipe_name):
    """Refuse, before any work, a run without its data flags or with missing folders.

    ``--smoke`` makes its own data. ``--val-dir none`` trains without validation (the
    returned config has ``val_dir=None``).

    Raises:
        MattingInputError: one line naming every missing flag, or the first folder that
            does not exist.
    """
    import os

    if getattr(config, "smoke", False):
        return config
    missing = [name for name in REQUIRED_DATA_FLAGS if not getattr(config, name, None)]
    if missing:
        named = "; ".join(f"{_flag(n)} ({REQUIRED_DATA_FLAGS[n]})" for n in missing)
        raise MattingInputError(
            f"keras-matting train {recipe_name} needs {named}: these have no default, "
            "pass them"
        )
    if str(config.val_dir).lower() == NO_VALIDATION:
        config = dataclasses.replace(config, val_dir=None)
    for name in ("bg_dir", "fg_dir", "alpha_dir", "val_dir", "val_portraits_dir"):
        folder = getattr(config, name, None)
        if folder and not os.path.isdir(folder):
            raise MattingInputError(
                f"{_flag(name)} '{folder}' is not a folder: check the path"
            )
    return config


def config_from_args(config_cls, args, presets=None):
    """Paper defaults < ``presets`` (e.g. the ``--smoke`` ones) < ``--config`` file < flags.

    Raises:
        MattingInputError: unknown ``--config`` keys or a count below 1.
    """
    values = dict(presets or {})
    if getattr(args, "config", None):
        values.update(load_config_file(args.config, config_cls))
    for field in dataclasses.fields(config_cls):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = value
    return validate_config(config_cls(**values))
