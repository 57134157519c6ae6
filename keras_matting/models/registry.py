"""Model names, shipped model files and cached loading: ``keras_matting.load(name_or_path)``.

Names:

| name | kind | condition |
|---|---|---|
| ``igf`` | shipped ``IGFGenerator`` (``saved_models/igf.keras``) | mask |
| ``alphagan`` | not shipped: train one (``keras-matting train alphagan``), pass its file | trimap |
| ``closed-form``, ``knn`` | classical, pymatting (``[baselines]`` extra) | trimap |
| ``guided-filter`` | fast guided filter (r=64, eps=1e-5, s=4) on image + mask | mask |

Only models that work ship: the AlphaGAN trained here on CPUs (100 steps) scored SAD 27.46
on alphamatting_val Trimap1 against closed-form's 4.63 (``saved_models/README.md``), so it
is not in the package. :data:`DEFAULT_MODELS` names what ``matte`` uses for each guidance.

Any ``X.keras`` may be given as its parts ``X.keras.part0``, ... (:mod:`keras_matting.saving`).
Anything else is a path to a ``.keras`` file holding an ``AlphaGANGenerator`` or an
``IGFGenerator``, or a trainer (``AlphaGAN``, ``IGF``) wrapping one (its ``.generator``
is used). Loaded models are cached per (absolute path, modification time).
"""

import os
import re

from keras_matting import saving
from keras_matting.errors import MattingInputError

__all__ = [
    "CLASSICAL_MODELS",
    "DEFAULT_MODELS",
    "MODEL_NAMES",
    "SHIPPED_INFERENCE",
    "SHIPPED_MODELS",
    "UNSHIPPED_MODELS",
    "condition_of",
    "load",
    "load_inference",
    "shipped_model_path",
]

# Shipped weights live in the package (also reachable as saved_models/ at the repo root).
SAVED_MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "saved_models")
SHIPPED_MODELS = {"igf": "igf.keras"}
# What predictions run for a shipped name: the IGF's coefficient network exported to
# LiteRT (keras_matting.inference.igf_tflite.IGFTFLite, no TensorFlow import), the same
# alpha as the .keras model (tests/inference/test_igf_tflite.py).
SHIPPED_INFERENCE = {"igf": "igf_coefficients.tflite"}
# Architectures this package trains but ships no weights for: name -> condition it needs.
UNSHIPPED_MODELS = {"alphagan": "trimap"}
# name -> condition it needs
CLASSICAL_MODELS = {"closed-form": "trimap", "knn": "trimap", "guided-filter": "mask"}
MODEL_NAMES = tuple(SHIPPED_MODELS) + tuple(UNSHIPPED_MODELS) + tuple(CLASSICAL_MODELS)
# What matte() uses when no model is given: the best on alphamatting_val for each guidance
# (README "Evaluation"): mask protocol SAD 7.66 for the shipped IGF against the guided
# filter's 8.65; closed-form SAD 4.63 / 6.39 on Trimap1 / Trimap2 (mean 5.51) against
# KNN's 4.57 / 6.92 (mean 5.75), at 1/7 of KNN's time.
DEFAULT_MODELS = {"mask": "igf", "trimap": "closed-form"}

_CACHE = {}


def shipped_model_path(name):
    """Path of the shipped ``.keras`` file for ``name`` (``"igf"``)."""
    return os.path.join(SAVED_MODELS_DIR, SHIPPED_MODELS[name])


def _register_classes():
    # Importing the model packages registers their classes for safe_mode deserialisation.
    # The trainers (TensorFlow train_step) only on the TensorFlow backend: elsewhere a
    # generator loads without importing TensorFlow.
    import keras

    from keras_matting.models.alphagan import AlphaGANGenerator
    from keras_matting.models.igf import IGFGenerator

    trainers = ()
    if keras.backend.backend() == "tensorflow":
        from keras_matting.models.alphagan import AlphaGAN
        from keras_matting.models.igf import IGF

        trainers = (AlphaGAN, IGF)
    return (AlphaGANGenerator, IGFGenerator), trainers


def load_inference(name_or_path):
    """What ``matte`` and ``keras-matting predict`` run for ``name_or_path``.

    A shipped name with a LiteRT export (:data:`SHIPPED_INFERENCE`) gives an
    :class:`~keras_matting.inference.igf_tflite.IGFTFLite` (cached): predictions without
    importing TensorFlow. Anything else is :func:`load`.
    """
    if isinstance(name_or_path, str) and name_or_path in SHIPPED_INFERENCE:
        path = os.path.join(SAVED_MODELS_DIR, SHIPPED_INFERENCE[name_or_path])
        if os.path.isfile(path):
            key = ("inference", path, os.stat(path).st_mtime_ns)
            if key not in _CACHE:
                from keras_matting.inference.igf_tflite import IGFTFLite

                _CACHE[key] = IGFTFLite(path)
            return _CACHE[key]
    return load(name_or_path)


def condition_of(model):
    """``"trimap"`` or ``"mask"``: what ``model`` (a name, generator or trainer) is guided by."""
    from keras_matting.inference.igf_tflite import IGFTFLite

    if isinstance(model, IGFTFLite):
        return model.condition_name
    if isinstance(model, str):
        if model in CLASSICAL_MODELS:
            return CLASSICAL_MODELS[model]
        if model in SHIPPED_MODELS:
            return "mask"
        if model in UNSHIPPED_MODELS:
            return UNSHIPPED_MODELS[model]
        raise MattingInputError(f"unknown model name {model!r}: use one of {', '.join(MODEL_NAMES)}")
    (alphagan_generator, igf_generator), _ = _register_classes()
    generator = getattr(model, "generator", model)
    if isinstance(generator, alphagan_generator):
        return "trimap"
    if isinstance(generator, igf_generator):
        return "mask"
    raise MattingInputError(
        f"model {type(model).__name__} is not an AlphaGANGenerator or IGFGenerator "
        "(or a trainer wrapping one): keras_matting cannot tell what it is guided by"
    )


def load(name_or_path):
    """Load a matting generator by shipped name or from a ``.keras`` file (cached).

    Args:
        name_or_path: ``"igf"``, or a path to a ``.keras`` file with an
            ``AlphaGANGenerator`` / ``IGFGenerator`` or an ``AlphaGAN`` / ``IGF`` trainer.

    Returns:
        The generator (a ``keras.Model`` with ``predict_alpha``); use :func:`condition_of`
        to know whether it takes a trimap or a mask.

    Raises:
        MattingInputError: unknown name, a model that is not shipped (``"alphagan"``),
            missing or unloadable file, or a file holding some other model.
    """
    if isinstance(name_or_path, str) and name_or_path in CLASSICAL_MODELS:
        raise MattingInputError(
            f"'{name_or_path}' is a classical method, not a Keras model: use it with "
            "keras_matting.matte(..., model=name) or keras-matting predict --model"
        )
    if isinstance(name_or_path, str) and name_or_path in UNSHIPPED_MODELS:
        raise MattingInputError(
            f"no trained '{name_or_path}' ships with keras_matting (the CPU-trained one was "
            "not usable): train one with 'keras-matting train alphagan --fg-dir FG "
            "--alpha-dir ALPHA --bg-dir BG --val-dir VAL' and pass its .keras file (--model PATH, "
            "model=PATH), or use closed-form or knn for trimaps"
        )
    if isinstance(name_or_path, str) and name_or_path in SHIPPED_MODELS:
        path = shipped_model_path(name_or_path)
        if not saving.exists(path):
            raise MattingInputError(
                f"no shipped '{name_or_path}' model in this install yet; pass --model PATH "
                "to a .keras file (or keras_matting.load(PATH))"
            )
    else:
        if not isinstance(name_or_path, (str, os.PathLike)):
            raise MattingInputError(
                f"model must be a name ({', '.join(MODEL_NAMES)}) or a .keras path, "
                f"not {type(name_or_path).__name__}"
            )
        path = os.fspath(name_or_path)
        if not os.path.exists(path) and not saving.exists(path):
            raise MattingInputError(
                f"model '{path}' is neither a known name ({', '.join(MODEL_NAMES)}) nor an "
                "existing file: check the name or the path"
            )
        if not path.endswith(".keras") or not saving.exists(path):
            raise MattingInputError(
                f"model file '{path}' is not a .keras file: save it with model.save('x.keras')"
            )
    path = os.path.abspath(path)
    files = [path] if os.path.isfile(path) else saving.part_paths(path)
    key = (path, tuple(os.stat(f).st_mtime_ns for f in files))
    if key not in _CACHE:
        _CACHE[key] = _load_file(path)
    return _CACHE[key]


def _reason(exc, limit=240):
    """One line from an exception: whole sentences, cut at a sentence or word boundary."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) <= limit:
        return text.rstrip(".")
    cut = text.rfind(". ", 0, limit)
    if cut > 0:
        return text[:cut]
    return text[: text.rfind(" ", 0, limit)] + " ..."


def _load_file(path):
    generators, _ = _register_classes()
    try:
        model = saving.load_compact(path, compile=False, safe_mode=True)
    except saving.ModelFileError as exc:
        raise MattingInputError(
            f"cannot load model: {exc}; download it again or save the model again"
        ) from None
    except Exception as exc:  # keras raises many types for corrupt / foreign files
        text = " ".join(str(exc).split())
        if "safe_mode" in text or "unsafe_deserialization" in text:
            layer = "a Lambda layer" if "Lambda" in text else "Python code"
            raise MattingInputError(
                f"cannot load model '{path}': it holds {layer}, which Keras' safe mode "
                "refuses to load from a file (it could run arbitrary code); use a model saved "
                "by keras_matting, or, if you trust the file, load it yourself with "
                "keras.saving.load_model(path, safe_mode=False) and pass the model object"
            ) from None
        import keras

        if keras.backend.backend() != "tensorflow" and re.search(
                r"\b(IGF|AlphaGAN)\b", text):
            raise MattingInputError(
                f"cannot load model '{path}' on the {keras.backend.backend()} backend: it is "
                "a trainer checkpoint, which loads on TensorFlow (KERAS_BACKEND=tensorflow); "
                "save its generator (model.generator.save(...)) to use it elsewhere"
            ) from None
        raise MattingInputError(
            f"cannot load model '{path}': {_reason(exc)}; pass a .keras file saved by "
            "keras_matting"
        ) from None
    generator = getattr(model, "generator", model)
    if not isinstance(generator, generators):
        raise MattingInputError(
            f"model '{path}' holds a {type(model).__name__}, not an AlphaGANGenerator or "
            "IGFGenerator (or a trainer wrapping one)"
        )
    return generator
