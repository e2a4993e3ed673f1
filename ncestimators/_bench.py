"""``ncestimators bench``: run the benchmark scripts and rewrite RESULTS.md from their output."""

# SPDX-License-Identifier: BSD-3-Clause

import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["BENCHMARKS", "run_benchmarks"]

# script: (what it measures, its full-run arguments, its --quick arguments)
BENCHMARKS = {
    "bench_allnc.py": ("AllNCClassifier on long-tailed digits", [], ["--seeds", "1"]),
    "bench_dynamic_prototype.py": (
        "DynamicPrototypeClassifier: dynamic vs static assignment",
        [],
        ["--seeds", "1"],
    ),
    "bench_cofinai.py": (
        "CoFInAIRegressor against mean-pooled baselines, and Table 3",
        [],
        ["--seeds", "1", "--rg-seeds", "1"],
    ),
    "bench_clusterfb.py": ("ClusterFBSeparator (CASE): Tables 4-6", [], ["--seeds", "1"]),
    "bench_ceco.py": (
        "CeCoSegmenter: where the center-collapse regulariser pays, Tables 1 and 3",
        [],
        ["--seeds", "1"],
    ),
    "bench_ot.py": ("ncestimators.ot against POT", [], ["--repeats", "5"]),
    "bench_overhead.py": ("Training overhead and predict throughput", [], ["--repeats", "1"]),
    "bench_predict_profile.py": (
        "Where predict's time goes: the network's products in torch and in NumPy",
        [],
        ["--repeats", "1"],
    ),
    "bench_threads.py": (
        "Threads: a grid search in one process and in several",
        [],
        ["--repeats", "2"],
    ),
    "bench_cost.py": (
        "Cost curves: samples, classes, sequence length",
        [],
        ["--max-samples", "100000", "--max-classes", "1000"],
    ),
    "bench_real.py": (
        "The real track: ImageNet MobileNetV2 on Fashion-MNIST and CamVid",
        [],
        ["--seeds", "1"],
    ),
    "bench_memory.py": (
        "Private memory: a fit and three predicts on a 2 GiB memory map",
        [],
        ["--runs", "1"],
    ),
    "bench_adapters.py": (
        "Adapters: fine-tuning on digit images, extraction and fine-tuning speed",
        [],
        ["--seeds", "1", "--repeats", "1"],
    ),
}
# The dependencies whose versions the results depend on, as ``ncestimators info`` reports them.
_REPORTED_PACKAGES = ("torch", "scikit-learn", "skorch", "numpy", "scipy", "pandas")


def package_versions():
    """``{package: version}`` of the dependencies that benchmark results depend on."""
    return {name: importlib.metadata.version(name) for name in _REPORTED_PACKAGES}


def default_scripts_dir():
    """``examples/benchmarks`` of the checkout this package runs from (editable installs)."""
    return Path(__file__).resolve().parents[1] / "examples" / "benchmarks"


def run_benchmarks(scripts_dir=None, output=None, *, quick=False, only=None, benchmarks=BENCHMARKS):
    """Run the benchmark scripts and write RESULTS.md; return its path.

    Each script runs in a fresh Python process (so that one cannot warm up another); its
    markdown output goes into RESULTS.md under a heading, with its command line, wall time and
    date, after a header that names the machine and the versions. With ``only`` (script
    names), just those scripts run and their sections of the existing file are replaced; the
    other sections are kept as they were.
    """
    scripts_dir = Path(scripts_dir) if scripts_dir is not None else default_scripts_dir()
    unknown = sorted(set(only or ()) - set(benchmarks))
    if unknown:
        raise ValueError(
            f"Unknown benchmark scripts {unknown}; the scripts are {list(benchmarks)}."
        )
    missing = [name for name in benchmarks if not (scripts_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"No benchmark scripts {missing} in {scripts_dir}. ncestimators bench runs the "
            "scripts of a source checkout: run it from an editable install (pip install -e .) "
            "or pass --scripts examples/benchmarks."
        )
    output = Path(output) if output is not None else scripts_dir / "RESULTS.md"
    fresh = {
        name: _run_script(scripts_dir, name, benchmarks[name], quick) for name in only or benchmarks
    }
    # Read the kept sections only now, so that a run of other scripts that ended meanwhile stays.
    sections = {**(_sections(output, benchmarks) if only else {}), **fresh}
    body = "\n".join(sections[name] for name in benchmarks if name in sections)
    output.write_text(_header(quick) + body, encoding="utf-8")
    return output


def _run_script(scripts_dir, name, entry, quick):
    """The RESULTS.md section of one script: its heading, command line and output."""
    title, full, reduced = entry
    arguments = reduced if quick else full
    command = [sys.executable, str(scripts_dir / name), *arguments]
    print(f"running {name} {' '.join(arguments)}".rstrip(), flush=True)
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=scripts_dir)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(
            f"{name} failed with exit code {completed.returncode}:\n{completed.stderr[-2000:]}"
        )
    shown = " ".join(["python", f"examples/benchmarks/{name}", *arguments])
    return (
        f"## {title}\n\n`{shown}`, {seconds:.0f} s, run on {datetime.date.today().isoformat()}."
        f"\n\n{completed.stdout.strip()}\n"
    )


def _sections(path, benchmarks):
    """The sections of an existing RESULTS.md, by script name (none if there is no file)."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    starts = {}
    for name, (title, _, _) in benchmarks.items():
        position = text.find(f"## {title}\n\n`python examples/benchmarks/{name}")
        if position >= 0:
            starts[name] = position
    ordered = sorted(starts.items(), key=lambda item: item[1])
    ends = [position for _, position in ordered[1:]] + [len(text)]
    return {
        name: text[start:end].rstrip("\n") + "\n"
        for (name, start), end in zip(ordered, ends, strict=True)
    }


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux), or what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _header(quick):
    versions = ", ".join(f"{name} {version}" for name, version in package_versions().items())
    cpu = f"{cpu_model()} ({platform.machine()})"
    mode = (
        "quick (one seed or repeat each: a smoke run, not the recorded numbers)"
        if quick
        else "full"
    )
    return (
        "# Benchmark results\n\n"
        "Written by `ncestimators bench`: every script under `examples/benchmarks/`, run in its "
        "own process, its output below as it printed it. Regenerate with `ncestimators bench` "
        "(`--quick` for a smoke run, `--only bench_x.py` to rerun one section). What the numbers "
        "mean, and what did not reproduce, is in the `results_*.md` files beside this one. Test "
        "data is never used for a choice.\n\n"
        f"* Mode: {mode}; each section says when it ran.\n"
        f"* Machine: {cpu}, {os.cpu_count()} CPUs, {platform.platform()}; Python "
        f"{platform.python_version()}.\n"
        f"* Versions: {versions}.\n"
        f"* Threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} in the last "
        "run; a section that prints its torch threads says how it ran.\n\n"
    )
