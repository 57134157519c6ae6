"""Evaluation reports: ``results.json``, ``report.md`` and matplotlib figures.

``report.md`` has two tables of means per method: the standard errors (unknown region of
the scoring trimap, known region clamped) and what users see (whole image, no clamping:
whole-image SAD and MSE, band SAD, holes % and halo %, see
:mod:`keras_matting.metrics.whole_image`).

Every file is written atomically (:func:`keras_matting.io.atomic_write`). Figures need
matplotlib (``pip install "keras-matting[report]"``) and use the Agg backend; without it
the report says they were skipped.
"""

import io
import json
import math
import os
import platform
import re
import sys

import numpy as np

__all__ = [
    "format_markdown",
    "format_mean_table",
    "format_user_table",
    "machine_info",
    "results_document",
    "write_grid",
    "write_markdown",
    "write_results",
    "write_sad_figure",
]

COLUMNS = (("sad", "SAD", "{:.2f}"), ("mse", "MSE", "{:.4f}"), ("grad", "Grad", "{:.2f}"),
           ("conn", "Conn", "{:.2f}"), ("seconds", "runtime (s)", "{:.3f}"))
USER_COLUMNS = (("whole_sad", "whole SAD", "{:.2f}"), ("whole_mse", "whole MSE", "{:.4f}"),
                ("band_sad", "band SAD", "{:.2f}"), ("holes_pct", "holes %", "{:.2f}"),
                ("halo_pct", "halo %", "{:.2f}"))
USER_TITLE = "What users see: whole image, no clamping"
FIGURE_SIDE = 320  # longer side of each panel of the qualitative grids, pixels
_INSTALL_HINT = 'figures need matplotlib: pip install "keras-matting[report]"'


def _version(package):
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info():
    """Platform, CPU, Python and library versions (TensorFlow and GPUs when it is loaded)."""
    from keras_matting import __version__

    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "keras_matting": __version__,
        "numpy": np.__version__,
        "opencv": _version("opencv-python-headless") or _version("opencv-python"),
        "pymatting": _version("pymatting"),
    }
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        info["tensorflow"] = getattr(tf, "__version__", None)
        info["keras"] = _version("keras")
        try:
            info["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
        except Exception:  # a broken device setup must not lose the report
            info["gpus"] = None
    return info


def json_safe(value):
    """``value`` with NaN and infinities as None, recursively (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def results_document(context, rows, summary, complete=True):
    """The ``results.json`` content (NaN, e.g. MSE of an empty region, becomes null)."""
    failures = [
        {"image": row["name"], "method": label, "error": result["error"]}
        for row in rows
        for label, result in row["methods"].items()
        if "error" in result
    ]
    return json_safe({**context, "complete": complete, "count": len(rows), "mean": summary,
                    "failures": failures, "images": rows})


def write_results(path, document):
    from keras_matting.io import atomic_write

    return atomic_write(path, json.dumps(document, indent=2) + "\n")


def write_markdown(path, text):
    from keras_matting.io import atomic_write

    return atomic_write(path, text)


def _best(summary, key):
    values = [s.get(key) for s in summary.values() if s.get(key) is not None]
    return min(values) if values else None


def format_mean_table(document, columns=COLUMNS):
    """Markdown table lines: means per method, the best (lowest) value per column in bold.

    ``columns``: ``(key, title, format)`` triples; :data:`COLUMNS` (the standard errors
    and runtime) by default, :data:`USER_COLUMNS` for :func:`format_user_table`.
    """
    summary = document["mean"]
    lines = [
        "| method | input | " + " | ".join(title for _, title, _ in columns) + " | images |",
        "|---|---|" + "---:|" * len(columns) + "---:|",
    ]
    best = {key: _best(summary, key) for key, _, _ in columns}
    for method in document["methods"]:
        entry = summary[method["label"]]
        cells = []
        for key, _, fmt in columns:
            value = entry.get(key)
            if value is None:
                cells.append("n/a")
                continue
            text = fmt.format(value)
            # bold every value equal to the best one as displayed (ties included)
            cells.append(f"**{text}**" if text == fmt.format(best[key]) else text)
        scored = f"{entry['count']}/{document['count']}"
        lines.append(f"| {method['label']} | {method['input']} | " + " | ".join(cells)
                     + f" | {scored} |")
    return lines


def format_user_table(document):
    """Markdown table lines of what users see (whole image, no clamping), best in bold."""
    return format_mean_table(document, USER_COLUMNS)


def user_definitions():
    """One paragraph: how the whole-image measures are defined."""
    from keras_matting.metrics import whole_image as w

    return (
        "Computed on each method's alpha as returned (8 bits, nothing clamped), against the "
        "ground truth alone, over the whole image: whole SAD = sum |p - g| / 1000, whole MSE "
        "= mean (p - g)^2; band SAD = sum |p - g| / 1000 inside dilate(g > 0.5) - "
        f"erode(g > 0.5), {w.BAND_KERNEL}x{w.BAND_KERNEL} kernels; holes % = share of the "
        f"sure interior (g > 0.99 eroded by {w.SURE_KERNEL // 2} px, a {w.SURE_KERNEL}x"
        f"{w.SURE_KERNEL} kernel) predicted below {w.HOLE_THRESHOLD}; halo % = share of the "
        f"sure exterior (g < 0.01 eroded the same way) predicted above {w.HALO_THRESHOLD}. "
        "Lower is better; the best value per column is in bold."
    )


def format_markdown(document, figures):
    """``report.md``: the means per method (best value per column in bold) and context."""
    methods = document["methods"]
    total = document["count"]
    lines = [
        "# Evaluation report",
        "",
        f"Command: `{document['command']}`",
        "",
        f"- Dataset: `{document['dataset']}` ({total} images"
        + (f", the first {document['limit']} by name" if document.get("limit") else "")
        + ")",
        f"- Protocol: `{document['protocol']['name']}`; standard errors scored on "
        f"{document['protocol']['scoring_trimap']}",
        *([f"- Masks given to mask methods: {document['protocol']['mask_description']}"]
          if document["protocol"].get("mask_description") else []),
        f"- Errors: {document['metrics']}",
        "- Runtime: seconds per image of the method's call on in-memory arrays "
        "(`keras_matting.matte`), mean over the images; Keras models are run once on the "
        "first image before timing (graph tracing)"
        + ("; the automatic person mask is computed once per image, outside the timed calls"
           if document["protocol"].get("mask_source") == "auto" else "")
        + ("; the baseline `mask` runs nothing (n/a)"
           if any(m["label"] == "mask" and m["kind"] == "baseline" for m in methods) else ""),
        "- Machine: " + ", ".join(
            f"{k} {v}" for k, v in document["machine"].items() if v not in (None, [], "")
        ),
        "",
        *format_mean_table(document),
    ]
    lines += ["", "Lower is better in every column; the best value per column is in bold. "
              "Means are over the images each method succeeded on (column `images`).", ""]
    lines += [f"## {USER_TITLE}", "", *format_user_table(document), "", user_definitions(),
              "A percentage is left out of its mean where its region is empty.", ""]
    lines += ["## Methods", ""]
    for method in methods:
        lines.append(f"- **{method['label']}** ({method['kind']}): {method['settings']}; "
                     f"input: {method['input']}")
    lines.append("")
    if document["failures"]:
        lines += ["## Failures", "", "| image | method | reason |", "|---|---|---|"]
        for failure in document["failures"]:
            reason = failure["error"].replace("|", "\\|")
            lines.append(f"| {failure['image']} | {failure['method']} | {reason} |")
        lines.append("")
    lines += _per_image(document, "sad", "SAD per image (unknown region, clamped)")
    lines += _per_image(document, "whole_sad", "Whole-image SAD per image (no clamping)")
    lines += ["## Figures", ""]
    if figures.get("skipped"):
        lines.append(f"Figures skipped: {figures['skipped']}")
    else:
        if figures.get("sad"):
            lines.append(f"![SAD per image]({figures['sad']})")
            lines.append("")
        for name, path in figures.get("grids", []):
            lines.append(f"- {name}: [{path}]({path})")
    lines.append("")
    return "\n".join(lines)


def _per_image(document, key, title):
    methods = document["methods"]
    lines = [f"## {title}", "", "| image | " + " | ".join(m["label"] for m in methods) + " |",
             "|---|" + "---:|" * len(methods)]
    for row in document["images"]:
        cells = []
        for method in methods:
            result = row["methods"][method["label"]]
            value = result.get(key)
            cells.append("failed" if "error" in result else "n/a" if value is None
                         else f"{value:.2f}")
        lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


# --------------------------------------------------------------------------- figures


def pyplot():
    """matplotlib's pyplot with the Agg backend; ImportError with the install hint."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    from keras_matting.io import atomic_write

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    fig.canvas.figure.clf()
    return atomic_write(path, buffer.getvalue())


def safe_name(name):
    """A file-name-safe version of an image name (for ``grid_<name>.png``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)) or "image"


def write_sad_figure(path, rows, labels):
    """Grouped bars: SAD per image, one bar per method (failed runs left out)."""
    plt = pyplot()
    count = len(rows)
    width = 0.8 / max(1, len(labels))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * count * max(1, len(labels)) ** 0.5 + 2), 4))
    x = np.arange(count)
    for k, label in enumerate(labels):
        values = [r["methods"][label].get("sad", np.nan) for r in rows]
        ax.bar(x + (k - (len(labels) - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(x, [r["name"] for r in rows], rotation=45 if count > 8 else 0, ha="right"
                  if count > 8 else "center")
    ax.set_ylabel("SAD (/1000)")
    ax.set_title("SAD per image")
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def _small(array, interpolation):
    import cv2

    h, w = array.shape[:2]
    scale = FIGURE_SIDE / max(h, w)
    if scale >= 1:
        return array
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(array, size, interpolation=interpolation)


def write_grid(path, name, data, scored, labels, guide_title, scoring_title=None):
    """Qualitative grid of one image.

    Top row: image, the guide (trimap or mask), ground truth, each method's scored alpha;
    bottom row: the scoring trimap (when it differs from the guide), each method's
    absolute error map ``|alpha - gt|`` under its alpha.
    """
    import cv2

    plt = pyplot()
    columns = 3 + len(labels)
    h, w = data["gt"].shape
    panel = 2.2
    fig, axes = plt.subplots(2, columns, figsize=(panel * columns, 2 * panel * h / w + 0.6),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    gray = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    guide = data["trimap"] if guide_title.startswith("trimap") else data["mask"]
    gt = data["gt"] / 255.0
    panels = [(axes[0, 0], data["image"], "image", {}), (axes[0, 1], guide / guide.max()
              if guide.max() > 0 else guide, guide_title, gray), (axes[0, 2], gt, "ground truth", gray)]
    if scoring_title:
        panels.append((axes[1, 0], data["scoring"] / 255.0, scoring_title, gray))
    for k, label in enumerate(labels):
        top, bottom = axes[0, 3 + k], axes[1, 3 + k]
        if label not in scored:
            top.set_title(f"{label}\nfailed", fontsize=8)
            continue
        alpha = scored[label] / 255.0
        panels.append((top, alpha, label, gray))
        panels.append((bottom, np.abs(alpha - gt), f"|{label} - gt|",
                       {"cmap": "inferno", "vmin": 0.0, "vmax": 1.0}))
    for ax, array, title, kwargs in panels:
        interpolation = cv2.INTER_NEAREST if kwargs and title.startswith("trimap") else cv2.INTER_AREA
        ax.imshow(np.clip(_small(np.asarray(array, np.float32), interpolation), 0, 1), **kwargs)
        ax.set_title(title, fontsize=8)
    fig.suptitle(name, fontsize=10)
    fig.tight_layout()
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)
