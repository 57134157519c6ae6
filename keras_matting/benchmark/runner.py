"""Run every backend of the benchmark on one input and format the table."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

__all__ = ["BACKENDS", "BenchmarkConfig", "format_table", "run_benchmark"]

TFLITE_VARIANTS = ("none", "float16", "dynamic", "int8")
TFLITE_LABELS = {"none": "fp32", "float16": "fp16", "dynamic": "dynamic-range int8",
                 "int8": "int8 (float I/O)"}
# row key -> (backend, label)
BACKENDS = {
    "keras": "Keras tf.function",
    "xla": "Keras tf.function + XLA (jit_compile)",
    **{f"tflite-{q}": f"TFLite {TFLITE_LABELS[q]}, XNNPACK" for q in TFLITE_VARIANTS},
    "tflite-packed": "TFLite fp32, packed 4-channel input, XNNPACK",
    "onnx": "onnxruntime (graph optimisation: all)",
}
CLASSICAL = {"mask": ("guided-filter", "fast guided filter (numpy/OpenCV, r=64, eps=1e-5, s=4)"),
             "trimap": ("closed-form", "closed-form matting (pymatting)")}
VAL_PROTOCOL = {"mask": ("Weak", True), "trimap": ("Trimap1", False)}  # scoring trimap, mask/


class BenchmarkConfig:
    """Options of :func:`run_benchmark` (the CLI's arguments)."""

    def __init__(self, size=(512, 512), batch=1, threads=2, runs=10, warmup=2, val_dir=None,
                 skip=(), calibration_count=16, classical_runs=3, seed=1234, log=None):
        self.size, self.batch, self.threads = tuple(size), int(batch), int(threads)
        self.runs, self.warmup, self.val_dir = int(runs), int(warmup), val_dir
        self.skip, self.calibration_count = set(skip), int(calibration_count)
        self.classical_runs, self.seed = int(classical_runs), int(seed)
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))


def _benchmark_input(condition, size, batch, seed):
    from keras_matting.export.calibration import calibration_sample

    samples = [calibration_sample(np.random.default_rng([seed, i]), condition, size)
               for i in range(batch)]
    return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])


def _val_arrays(val_dir, condition, size):
    from keras_matting.data.eval_dataset import build_eval_dataset

    scoring, use_mask = VAL_PROTOCOL[condition]
    ds = build_eval_dataset(val_dir, trimap=scoring, mask=use_mask, size=size[0])
    out = {"image": [], "guide": [], "alpha": [], "trimap": [], "name": []}
    for el in ds.as_numpy_iterator():
        out["image"].append(el["image"])
        out["guide"].append(el["mask"] if use_mask else el["trimap"])
        out["alpha"].append(el["alpha"])
        out["trimap"].append(el["trimap"])
        out["name"].append(el["name"].decode())
    return {k: (np.stack(v) if k != "name" else v) for k, v in out.items()}


def _mean_sad(pred, val):
    from keras_matting.metrics import clamp_known, sad

    return float(np.mean([
        sad(clamp_known(np.clip(p[..., 0], 0, 1), t[..., 0]), a[..., 0], t[..., 0])
        for p, a, t in zip(pred, val["alpha"], val["trimap"], strict=True)
    ]))


def _run_worker(spec, workdir, name):
    path = os.path.join(workdir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", "keras_matting.benchmark.worker", path],
                          capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCHMARK_RESULT "):
            return json.loads(line[len("BENCHMARK_RESULT "):])
    tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
    return {"error": f"worker exited with status {proc.returncode}: {tail}"}


def run_benchmark(generator, config, note=None):
    """Benchmark ``generator`` (an ``AlphaGANGenerator`` / ``IGFGenerator``).

    Returns:
        ``{"rows": [...], "header": {...}}``; each row has ``key``, ``label``, ``times``
        (seconds per batch), ``peak_rss_mb``, optionally ``sad`` and ``error``.
    """
    from keras_matting.benchmark.flops import generator_gflops
    from keras_matting.export.onnx import export_onnx
    from keras_matting.export.serving import condition_name
    from keras_matting.export.tflite import export_tflite, needs_packed_int8

    log = config.log
    condition = condition_name(generator)
    header = {"model": type(generator).__name__, "condition": condition, "note": note,
              "size": config.size, "batch": config.batch, "threads": config.threads,
              "runs": config.runs, "warmup": config.warmup,
              "params": int(generator.count_params())}
    header["gflops"] = generator_gflops(generator, config.size)
    rows = []
    with tempfile.TemporaryDirectory(prefix="keras-matting-benchmark-") as workdir:
        image, guide = _benchmark_input(condition, config.size, config.batch, config.seed)
        inputs = os.path.join(workdir, "inputs.npz")
        np.savez(inputs, image=image, guide=guide)
        val = val_path = None
        if config.val_dir:
            val = _val_arrays(config.val_dir, condition, config.size)
            val_path = os.path.join(workdir, "val.npz")
            np.savez(val_path, image=val["image"], guide=val["guide"])
            header["val"] = (f"{len(val['name'])} images of {config.val_dir}, IGF test protocol "
                             f"(shorter side 600, centre crop, resized to {config.size[0]}), "
                             f"scored on trimap/{VAL_PROTOCOL[condition][0]}")
        keras_path = os.path.join(workdir, "generator.keras")
        if {"keras", "xla"} - config.skip:
            generator.save(keras_path)
        common = {"inputs": inputs, "threads": config.threads, "runs": config.runs,
                  "warmup": config.warmup}
        for key, label in BACKENDS.items():
            if key in config.skip or (key.startswith("tflite") and "tflite" in config.skip):
                continue
            spec = dict(common, backend=key.split("-")[0])
            try:
                if key in ("keras", "xla"):
                    spec["model"] = keras_path
                elif key.startswith("tflite"):
                    quantize = key.split("-", 1)[1]
                    packed = quantize == "packed"
                    quantize = "none" if packed else quantize
                    if quantize == "int8" and needs_packed_int8(generator):
                        packed, label = True, f"{label}, packed 4-channel input"
                    log(f"converting {label} ...")
                    spec["model"] = export_tflite(
                        generator, os.path.join(workdir, f"{key}.tflite"), size=config.size,
                        batch=config.batch, quantize=quantize,
                        calibration_count=config.calibration_count, packed=packed,
                    )
                    if val_path:
                        spec["val"] = val_path
                        spec["predictions"] = os.path.join(workdir, f"{key}.npy")
                else:
                    log("converting ONNX ...")
                    spec["model"] = export_onnx(generator, os.path.join(workdir, "model.onnx"),
                                                size=config.size, batch=config.batch)
            except Exception as exc:  # a failed conversion is a row, not the end of the run
                rows.append({"key": key, "label": label, "error": f"conversion: {exc}"[:300]})
                continue
            log(f"running {label} ...")
            result = _run_worker(spec, workdir, key)
            if spec.get("predictions") and "error" not in result:
                result["sad"] = _mean_sad(np.load(spec["predictions"]), val)
            rows.append({"key": key, "label": label, **result})
        classical_key, classical_label = CLASSICAL[condition]
        if classical_key not in config.skip:
            log(f"running {classical_label} ...")
            spec = dict(common, backend=classical_key, model=None,
                        runs=min(config.runs, config.classical_runs),
                        warmup=min(config.warmup, 1))
            result = _run_worker(spec, workdir, classical_key)
            rows.append({"key": classical_key, "label": classical_label, "classical": True,
                         **result})
    return {"header": header, "rows": rows}


def _fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(result):
    """Markdown table (and header lines) of :func:`run_benchmark`'s result."""
    h = result["header"]
    batch = h["batch"]
    lines = [
        f"{h['model']} ({h['params']:,} parameters), input {h['size'][0]}x{h['size'][1]}, "
        f"batch {batch}, {h['threads']} threads, {h['runs']} runs after {h['warmup']} "
        f"warm-up; {h['gflops']:.3f} GFLOPs/image; {os.cpu_count()} CPUs visible",
    ]
    if h.get("note"):
        lines.append(h["note"])
    if h.get("val"):
        lines.append(f"SAD: {h['val']}")
    classical = next((r for r in result["rows"] if r.get("classical") and "times" in r), None)
    classical_median = float(np.median(classical["times"])) if classical else None
    fp32_sad = next((r.get("sad") for r in result["rows"] if r["key"] == "tflite-none"), None)
    lines += [
        "",
        "| backend | ms/batch median | min | max | images/s | GFLOP/s | peak RSS MB "
        "| speed-up vs classical | SAD | SAD vs fp32 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['label']} | skipped: {row['error']} | | | | | | | | |")
            continue
        t = np.asarray(row["times"]) * 1000.0
        median = float(np.median(t))
        ips = 1000.0 * batch / median
        speedup = classical_median * 1000.0 / median if classical_median else None
        sad = row.get("sad")
        delta = (f"{100.0 * (sad - fp32_sad) / fp32_sad:+.2f}%"
                 if sad is not None and fp32_sad else "-")
        gflops = "-" if row.get("classical") else _fmt(h["gflops"] * ips, 1)
        lines.append(
            f"| {row['label']} | {median:.2f} | {t.min():.2f} | {t.max():.2f} | {ips:.1f} "
            f"| {gflops} | {_fmt(row.get('peak_rss_mb'), 0)} | {_fmt(speedup)}x "
            f"| {_fmt(sad, 3)} | {delta} |"
        )
    return "\n".join(lines)
