"""Training data in the layouts people download, as the fg/alpha folders the pipelines read.

The AlphaGAN and IGF pipelines (:func:`~keras_matting.data.build_alphagan_dataset`,
:func:`~keras_matting.data.build_igf_dataset`) read a foreground folder and an alpha folder
whose files share names, and composite them over ``--bg-dir`` photos. This module finds
the (foreground, alpha) pairs, and the backgrounds where a layout names them, in the
folders below, and prepares them once as such a pair of folders (links to the original
files where they can be read as they are), so the pipelines run unchanged.

Folder names, as the datasets ship (``ROOT`` is the folder given as ``--dataset-dir``; the
split folder itself, e.g. ``AM-2k/train``, is accepted too):

``adobe``: Adobe Deep Image Matting (Xu et al. 2017), the Composition-1k training set.
    ``Combined_Dataset/Training_set/{Adobe-licensed images,Other}/{fg,alpha}/`` with
    ``training_fg_names.txt`` and ``training_bg_names.txt`` (431 foregrounds, 100 MS-COCO
    backgrounds each), as in the dataset's own README and public preparation scripts
    (e.g. github.com/brendanvonhofe/telescope-nn ``src/data/build_dataset.sh``). ``ROOT``
    is ``Combined_Dataset``, ``Training_set`` or the folder holding ``Combined_Dataset``.
    When ``training_fg_names.txt`` is present only the foregrounds it lists are used;
    when ``training_bg_names.txt`` is present, the backgrounds are the files it names,
    found (by file name, recursively) in ``--bg-dir`` (MS-COCO ``train2014``; PASCAL VOC
    ``JPEGImages`` for the test list): at least one must be there.
``d646``: Distinctions-646 (Qiao et al. 2020, github.com/yuhaoliu7456/CVPR2020-HAttMatting).
    ``Train/FG/`` and ``Train/GT/`` (596 training foregrounds; ``Test/FG``, ``Test/GT``
    are the 50 test ones), as configured in public training code (e.g. the
    BackgroundMattingV2 ``data_path.py`` forks).
``am2k``: AM-2k (Li et al., IJCV 2022, github.com/JizhiziLi/GFM ``core/README.md``).
    ``train/original/*.jpg`` and ``train/mask/*.png`` (1,800 natural animal photos with
    alpha); ``validation/{original,mask,trimap}``. A ``train/fg/`` folder, which the GFM
    README asks users to generate, is used as the foregrounds when present.
``p3m``: P3M-10k (Li et al., ACM MM 2021, github.com/JizhiziLi/P3M ``core/config.py``).
    ``train/blurred_image/*.jpg`` and ``train/mask/*.png`` (9,421 face-blurred portraits
    with alpha); ``validation/P3M-500-P/{blurred_image,mask,trimap}``,
    ``validation/P3M-500-NP/{original_image,mask,trimap}``. ``train/fg/`` is used when
    present (``FG_PATH`` of that config).
``ppm``: PPM-100 (Ke et al., AAAI 2022, github.com/ZHKKKe/PPM). ``image/`` and
    ``matte/`` (100 natural portraits; released as a benchmark: training on it leaves
    nothing to test on).
``rgba``: a folder of transparent images (PNG/WebP/TIFF with an alpha channel), each a
    cutout: colours = foreground, alpha channel = matte. The IGF paper's MAT-2793 was
    collected as such transparent PNGs (Li et al. 2019, section 4.1).
``folders``: this package's own layout, ``ROOT/fg/`` and ``ROOT/alpha/`` with matching
    names (what ``keras-matting synth`` writes, and ``--fg-dir``/``--alpha-dir``).

``auto`` tries them in the order above and names every expected layout when none matches.

Natural photos with alpha and no separate foreground (AM-2k, P3M-10k, PPM-100): the
photo is not a foreground. At the soft edges (hair, fur) its colours are
``alpha F + (1 - alpha) B`` of the original background, and compositing it onto a new
background would paint the old background's colour into every hair: a halo that the
network would learn to reproduce. The foreground is therefore estimated once per image
with blur-fusion (:func:`keras_matting.inference.foreground.estimate_foreground`,
Forte & Pitie 2021, the package's default estimator, ~0.3 s for a 2000x1500 photo) and
cached as a PNG next to the prepared folders; later runs reuse it (recomputed only when
the photo or its alpha is newer than the cached file).

Example:
    >>> from keras_matting.data.layouts import prepare_training_folders
    >>> fg_dir, alpha_dir, bg_dir = prepare_training_folders(
    ...     "AM-2k", "runs/igf/dataset", bg_dir="BG-20k/train")
    >>> ds = build_igf_dataset(fg_dir, alpha_dir, bg_dir, batch_size=8)
"""

import dataclasses
import os
import shutil
import warnings

from keras_matting.data.folders import TF_IMAGE_EXTENSIONS, list_images
from keras_matting.errors import MattingInputError

LAYOUTS = ("auto", "adobe", "d646", "am2k", "p3m", "ppm", "rgba", "folders")
_TRANSPARENT_EXTENSIONS = (".png", ".webp", ".tif", ".tiff")

_EXPECTED = {
    "adobe": "Combined_Dataset/Training_set/<group>/fg+alpha with training_fg_names.txt",
    "d646": "Train/FG + Train/GT",
    "am2k": "train/original + train/mask",
    "p3m": "train/blurred_image + train/mask",
    "ppm": "image + matte",
    "rgba": "transparent PNGs",
    "folders": "fg + alpha",
}
_TITLES = {
    "adobe": "an Adobe Deep Image Matting training set",
    "d646": "a Distinctions-646 folder",
    "am2k": "an AM-2k folder",
    "p3m": "a P3M-10k folder",
    "ppm": "a PPM-100 folder",
    "rgba": "a folder of transparent (RGBA) images",
    "folders": "an fg/ + alpha/ folder",
}


@dataclasses.dataclass(frozen=True)
class Sample:
    """One training sample: an alpha and either a foreground, a photo or an RGBA cutout."""

    name: str
    alpha: str
    foreground: str = None
    image: str = None  # a natural photo whose foreground is estimated


@dataclasses.dataclass(frozen=True)
class LayoutData:
    """What :func:`read_layout` found: the layout, its samples and its background names."""

    layout: str
    root: str
    samples: tuple
    background_names: tuple = None
    background_list: str = None


def _child(folder, *names):
    """``folder/name`` for the first existing name, compared case-insensitively."""
    if not os.path.isdir(folder):
        return None
    entries = {e.lower(): e for e in sorted(os.listdir(folder))}
    for name in names:
        entry = entries.get(name.lower())
        if entry is not None and os.path.isdir(os.path.join(folder, entry)):
            return os.path.join(folder, entry)
    return None


def _file(folder, name):
    path = os.path.join(folder, name)
    return path if os.path.isfile(path) else None


def _split(root, split, *folders):
    """The folder holding all of ``folders``: ``root/split`` or ``root`` itself."""
    for base in (_child(root, split), root):
        if base and all(_child(base, f) for f in folders):
            return base
    return None


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _by_stem(folder, what):
    return {_stem(p): p for p in list_images(folder, what=what)}


def _pairs(a_dir, b_dir, what_a, what_b):
    """``{stem: (a, b)}`` by file name; a name present on one side only is an error."""
    a, b = _by_stem(a_dir, what_a), _by_stem(b_dir, what_b)
    only = sorted(set(a) ^ set(b))
    if only:
        side, other = (a_dir, b_dir) if only[0] in a else (b_dir, a_dir)
        raise MattingInputError(
            f"{side}: {len(only)} file(s) have no file of the same name in {other} (e.g. "
            f"{', '.join(only[:3])}); give every sample both files"
        )
    return {n: (a[n], b[n]) for n in sorted(a)}


# --------------------------------------------------------------------------- layouts


def _adobe_training_set(root):
    for base in (root, _child(root, "Training_set"),
                 _child(_child(root, "Combined_Dataset") or "", "Training_set")):
        if not base:
            continue
        groups = [os.path.join(base, g) for g in sorted(os.listdir(base))
                  if _child(os.path.join(base, g), "fg") and _child(os.path.join(base, g), "alpha")]
        if groups and (_file(base, "training_fg_names.txt") or _child(base, "Adobe-licensed images")):
            return base, groups
    return None


def _read_adobe(root):
    found = _adobe_training_set(root)
    if found is None:
        return None
    base, groups = found
    samples = {}
    for group in groups:
        pairs = _pairs(_child(group, "fg"), _child(group, "alpha"), "foreground", "alpha")
        for stem, (fg, alpha) in pairs.items():
            name = stem if stem not in samples else f"{os.path.basename(group)}-{stem}"
            samples[name] = Sample(name, alpha, foreground=fg)
    names_file = _file(base, "training_fg_names.txt")
    if names_file:
        wanted = _read_names(names_file)
        by_file = {os.path.basename(s.foreground): s for s in samples.values()}
        missing = [n for n in wanted if n not in by_file]
        if missing:
            raise MattingInputError(
                f"{names_file}: {len(missing)} listed foreground(s) are not in any "
                f"{base}/<group>/fg folder (e.g. {', '.join(missing[:3])}); unpack the "
                "whole Adobe dataset"
            )
        samples = {by_file[n].name: by_file[n] for n in dict.fromkeys(wanted)}
    bg_file = _file(base, "training_bg_names.txt")
    bg_names = tuple(dict.fromkeys(_read_names(bg_file))) if bg_file else None
    return LayoutData("adobe", base, tuple(samples.values()), bg_names, bg_file)


def _read_names(path):
    with open(path, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise MattingInputError(f"{path}: empty name list; one file name per line expected")
    return names


def _read_pair_layout(layout, root, split, fg_folder, alpha_folder, photo=False):
    base = _split(root, split, fg_folder, alpha_folder)
    if base is None:
        return None
    if photo and _child(base, "fg"):  # foregrounds the user generated (GFM/P3M READMEs)
        pairs = _pairs(_child(base, "fg"), _child(base, alpha_folder), "foreground", "alpha")
        photo = False
    else:
        pairs = _pairs(_child(base, fg_folder), _child(base, alpha_folder),
                       "image" if photo else "foreground", "alpha")
    samples = tuple(
        Sample(n, a, image=f) if photo else Sample(n, a, foreground=f)
        for n, (f, a) in pairs.items()
    )
    return LayoutData(layout, base, samples)


def _has_alpha_channel(path):
    import cv2

    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    return img is not None and img.ndim == 3 and img.shape[2] in (2, 4)


def _read_rgba(root, strict):
    if not os.path.isdir(root):
        return None
    files = [os.path.join(root, f) for f in sorted(os.listdir(root))
             if f.lower().endswith(_TRANSPARENT_EXTENSIONS) and not f.startswith(".")]
    files = [f for f in files if os.path.isfile(f)]
    if not files or not _has_alpha_channel(files[0]):
        return None
    if strict:  # explicit --dataset-layout rgba: every file is checked now, not mid-training
        opaque = [f for f in files if not _has_alpha_channel(f)]
        if opaque:
            raise MattingInputError(
                f"{opaque[0]}: no alpha channel ({len(opaque)} such file(s) in {root}); "
                "a transparent-image dataset needs RGBA files: remove or re-export them"
            )
    return LayoutData("rgba", root, tuple(Sample(_stem(f), f, foreground=f) for f in files))


def _read(layout, root, strict=False):
    if layout == "adobe":
        return _read_adobe(root)
    if layout == "d646":
        return _read_pair_layout("d646", root, "Train", "FG", "GT")
    if layout == "am2k":
        return _read_pair_layout("am2k", root, "train", "original", "mask", photo=True)
    if layout == "p3m":
        return _read_pair_layout("p3m", root, "train", "blurred_image", "mask", photo=True)
    if layout == "ppm":
        return _read_pair_layout("ppm", root, "", "image", "matte", photo=True)
    if layout == "rgba":
        return _read_rgba(root, strict)
    if layout == "folders":
        return _read_pair_layout("folders", root, "", "fg", "alpha")
    raise MattingInputError(f"--dataset-layout {layout!r}: use one of {', '.join(LAYOUTS)}")


def read_layout(root, layout="auto"):
    """Find the training samples of ``root`` in ``layout`` (``"auto"``: detect it).

    Only file names are read (and, for ``rgba``, image headers), nothing is decoded.

    Returns:
        :class:`LayoutData`.

    Raises:
        MattingInputError: ``root`` is missing or does not match ``layout`` (or, for
        ``"auto"``, any layout), or a sample lacks one of its files.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise MattingInputError(f"{root}: dataset folder not found; pass an existing directory")
    if layout == "auto":
        for name in LAYOUTS[1:]:
            data = _read(name, root)
            if data is not None:
                return data
        expected = "; ".join(f"{k}: {v}" for k, v in _EXPECTED.items())
        raise MattingInputError(
            f"{root}: matches no dataset layout (expected {expected}); "
            "point --dataset-dir at the dataset's root or pass --dataset-layout"
        )
    data = _read(layout, root, strict=True)
    if data is None:
        raise MattingInputError(
            f"{root}: not {_TITLES[layout]} (expected {_EXPECTED[layout]}); "
            "check the folder or pass --dataset-layout auto"
        )
    return data


def detect_layout(root):
    """The name of the layout of ``root`` (see the module docstring)."""
    return read_layout(root).layout


def iter_pairs(data):
    """Yield ``(name, foreground, alpha)``: float32 ``(H, W, 3)`` and ``(H, W)`` in [0, 1].

    Photos without a foreground (AM-2k, P3M-10k, PPM-100) get the blur-fusion estimate.
    """
    from keras_matting import io
    from keras_matting.inference.foreground import estimate_foreground

    for sample in data.samples:
        with warnings.catch_warnings():  # RGBA cutouts: the alpha channel is the point
            warnings.simplefilter("ignore", UserWarning)
            alpha = io.read_alpha(sample.alpha)
            if sample.image is not None:
                image = io.read_image(sample.image)
                _same_size(image, alpha, sample.image, sample.alpha)
                yield sample.name, estimate_foreground(image, alpha), alpha
            else:
                fg = io.read_image(sample.foreground)
                _same_size(fg, alpha, sample.foreground, sample.alpha)
                yield sample.name, fg, alpha


def _same_size(image, alpha, image_path, alpha_path):
    if image.shape[:2] != alpha.shape:
        raise MattingInputError(
            f"{alpha_path}: {alpha.shape[1]}x{alpha.shape[0]} but {image_path} is "
            f"{image.shape[1]}x{image.shape[0]}; give both files the same size"
        )


# --------------------------------------------------------------------------- preparing


def _link(src, dst):
    """``dst`` -> ``src`` (a symbolic link; a copy where links are not allowed)."""
    src = os.path.abspath(src)
    if os.path.islink(dst) and os.readlink(dst) == src:
        return
    tmp = f"{dst}.tmp-{os.getpid()}"
    if os.path.lexists(tmp):
        os.remove(tmp)
    try:
        os.symlink(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _fresh(cached, *sources):
    return os.path.isfile(cached) and all(
        os.path.getmtime(cached) >= os.path.getmtime(s) for s in sources
    )


def _decodable(path):
    return path.lower().endswith(TF_IMAGE_EXTENSIONS)


def _prepare_sample(sample, fg_dir, alpha_dir):
    """Files of ``sample`` in the pipelines' form; returns the two file names written."""
    from keras_matting import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if sample.image is not None:  # natural photo: estimated foreground, cached
            fg_path = os.path.join(fg_dir, sample.name + ".png")
            if not _fresh(fg_path, sample.image, sample.alpha):
                from keras_matting.inference.foreground import estimate_foreground

                image, alpha = io.read_image(sample.image), io.read_alpha(sample.alpha)
                _same_size(image, alpha, sample.image, sample.alpha)
                io.write_image(fg_path, estimate_foreground(image, alpha))
        elif sample.foreground == sample.alpha:  # RGBA cutout: split colours and alpha
            fg_path = os.path.join(fg_dir, sample.name + ".png")
            alpha_path = os.path.join(alpha_dir, sample.name + ".png")
            if not (_fresh(fg_path, sample.foreground) and _fresh(alpha_path, sample.alpha)):
                io.write_image(fg_path, io.read_image(sample.foreground))
                io.write_alpha(alpha_path, io.read_alpha(sample.alpha))
            return os.path.basename(fg_path), os.path.basename(alpha_path)
        elif _decodable(sample.foreground):
            fg_path = os.path.join(fg_dir, sample.name + os.path.splitext(sample.foreground)[1])
            _link(sample.foreground, fg_path)
        else:  # TIFF/WebP: the tf.data decoders read PNG/JPEG/BMP/GIF only
            fg_path = os.path.join(fg_dir, sample.name + ".png")
            if not _fresh(fg_path, sample.foreground):
                io.write_image(fg_path, io.read_image(sample.foreground))
        if _decodable(sample.alpha):
            alpha_path = os.path.join(alpha_dir, sample.name + os.path.splitext(sample.alpha)[1])
            _link(sample.alpha, alpha_path)
        else:
            alpha_path = os.path.join(alpha_dir, sample.name + ".png")
            if not _fresh(alpha_path, sample.alpha):
                io.write_alpha(alpha_path, io.read_alpha(sample.alpha))
    return os.path.basename(fg_path), os.path.basename(alpha_path)


def _remove_others(folder, keep):
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if entry not in keep and (os.path.islink(path) or os.path.isfile(path)):
            os.remove(path)


def _prepare_backgrounds(data, bg_dir, out_dir):
    if not bg_dir:
        raise MattingInputError(
            f"{data.background_list} names the backgrounds: pass --bg-dir with those "
            "images (MS-COCO train2014 for the training list)"
        )
    available = {os.path.basename(p): p for p in list_images(
        bg_dir, recursive=True, what="background", extensions=TF_IMAGE_EXTENSIONS)}
    found = [n for n in data.background_names if n in available]
    if not found:
        raise MattingInputError(
            f"{bg_dir}: none of the {len(data.background_names)} backgrounds named in "
            f"{data.background_list} (e.g. {data.background_names[0]}) are here; pass the "
            "folder that holds them as --bg-dir (MS-COCO train2014)"
        )
    os.makedirs(out_dir, exist_ok=True)
    for name in found:
        _link(available[name], os.path.join(out_dir, name))
    _remove_others(out_dir, set(found))
    if len(found) < len(data.background_names):
        print(f"note: {len(found)} of the {len(data.background_names)} backgrounds named in "
              f"{data.background_list} are in {bg_dir}; training uses those", flush=True)
    return out_dir


def prepare_training_folders(root, cache_dir, layout="auto", bg_dir=None, progress=False):
    """Prepare ``root`` (a dataset in ``layout``) as the pipelines' fg/alpha folders.

    Foregrounds and alphas the pipelines can read as they are become links in
    ``cache_dir/fg`` and ``cache_dir/alpha`` (copies where links are not allowed);
    RGBA cutouts are split into a colour PNG and an alpha PNG; photos without a
    foreground get their blur-fusion foreground (see the module docstring). Files
    already prepared and newer than their sources are kept, files of samples no longer
    in ``root`` are removed, so a rerun (a resumed training) is quick.

    Args:
        root: the dataset folder.
        cache_dir: where to prepare the folders (``<output_dir>/dataset`` in the recipes).
        layout: one of :data:`LAYOUTS`.
        bg_dir: the background photos; for a layout with a background name list
            (``adobe``), the named files are looked up here.
        progress: print a line every 100 estimated foregrounds.

    Returns:
        ``(fg_dir, alpha_dir, bg_dir)``; ``bg_dir`` is the given one unless the layout
        names its backgrounds (then ``cache_dir/bg``, links to the named files).

    Raises:
        MattingInputError: see :func:`read_layout`; a foreground and alpha of different
        sizes; none of the named backgrounds in ``bg_dir``.
    """
    data = read_layout(root, layout)
    if data.layout == "folders":
        return _child(data.root, "fg"), _child(data.root, "alpha"), bg_dir
    cache_dir = os.fspath(cache_dir)
    fg_dir, alpha_dir = os.path.join(cache_dir, "fg"), os.path.join(cache_dir, "alpha")
    os.makedirs(fg_dir, exist_ok=True)
    os.makedirs(alpha_dir, exist_ok=True)
    estimated = sum(s.image is not None for s in data.samples)
    if estimated and progress:
        print(f"{data.root}: {data.layout} layout, {len(data.samples)} photos with alpha; "
              f"estimating their foregrounds once into {fg_dir} (blur-fusion)", flush=True)
    fg_names, alpha_names = set(), set()
    for i, sample in enumerate(data.samples):
        fg_name, alpha_name = _prepare_sample(sample, fg_dir, alpha_dir)
        fg_names.add(fg_name)
        alpha_names.add(alpha_name)
        if progress and estimated and (i + 1) % 100 == 0:
            print(f"  {i + 1}/{len(data.samples)} foregrounds", flush=True)
    _remove_others(fg_dir, fg_names)
    _remove_others(alpha_dir, alpha_names)
    if data.background_names:
        bg_dir = _prepare_backgrounds(data, bg_dir, os.path.join(cache_dir, "bg"))
    return fg_dir, alpha_dir, bg_dir


def apply_dataset_layout(config):
    """A recipe config whose ``dataset_dir`` (if any) is prepared as ``fg_dir``/``alpha_dir``.

    The prepared folders live in ``<output_dir>/dataset``. ``dataset_dir`` together with
    ``fg_dir``/``alpha_dir`` is an error, as is a ``dataset_layout`` other than ``auto``
    or ``folders`` without ``dataset_dir``.
    """
    layout = getattr(config, "dataset_layout", "auto")
    if layout not in LAYOUTS:
        raise MattingInputError(f"--dataset-layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    root = getattr(config, "dataset_dir", None)
    if not root:
        if layout not in ("auto", "folders"):
            raise MattingInputError(
                f"--dataset-layout {layout} needs --dataset-dir (the dataset's folder)"
            )
        return config
    if config.fg_dir or config.alpha_dir:
        raise MattingInputError(
            "give --dataset-dir or --fg-dir/--alpha-dir, not both (--dataset-dir "
            "reads the whole dataset)"
        )
    fg_dir, alpha_dir, bg_dir = prepare_training_folders(
        root, os.path.join(config.output_dir, "dataset"), layout, config.bg_dir,
        progress=not getattr(config, "smoke", False),
    )
    return dataclasses.replace(config, fg_dir=fg_dir, alpha_dir=alpha_dir, bg_dir=bg_dir)


__all__ = [
    "LAYOUTS",
    "LayoutData",
    "Sample",
    "apply_dataset_layout",
    "detect_layout",
    "iter_pairs",
    "prepare_training_folders",
    "read_layout",
]
