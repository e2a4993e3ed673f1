"""Private memory of a fit and three predicts on a 2 GiB memory map, worst of several processes.

Runs every case of the memory gate (``tests/_memory_worker.py``: the five estimators, the
three extractors, ``FineTune`` on images and on 300 video files) in ``--runs`` fresh Python
processes, at the allocator's and torch's defaults, and prints a markdown table of the peak
growth of ``RssAnon`` per case: the worst run, the best, and the gate's limit. The workers run
with torch's default threads whatever ``OMP_NUM_THREADS`` says here. ``--library DIR`` measures
another version of the library: DIR holds its ``ncestimators`` package (with ``adapters`` and
``datasets`` inside), put first on the workers' ``PYTHONPATH``. The inputs are written once into
``--directory`` (a temporary one by default) and mapped by every run.

Run with ``python examples/benchmarks/bench_memory.py [--runs 5] [--cases NAME ...]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from ncestimators._bench import cpu_model

WORKER = Path(__file__).resolve().parents[2] / "tests" / "_memory_worker.py"
CASES = [
    "DynamicPrototypeClassifier",
    "AllNCClassifier",
    "CeCoSegmenter",
    "ClusterFBSeparator",
    "CoFInAIRegressor",
    "BackboneFeatures",
    "DenseFeatures",
    "ClipFeatures",
    "FineTune on images",
    "FineTune on video files",
]


def run_case(name, directory, library=None):
    """``(growth, limit)`` in MiB of one fresh process, or None with the error's last line."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") and not key.startswith("MALLOC_")
    }
    if library is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(library), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    completed = subprocess.run(
        [sys.executable, str(WORKER), name, str(directory)],
        capture_output=True,
        text=True,
        check=False,
        cwd=WORKER.parent,
        env=environment,
    )
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or ["no output"]
        print(f"{name}: failed: {lines[-1]}", file=sys.stderr)
        return None
    growth, limit = map(float, completed.stdout.split()[-2:])
    return growth, limit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    parser.add_argument("--directory", type=Path, default=None)
    parser.add_argument("--library", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.directory or Path(scratch)
        print(f"{cpu_model()}, Python {platform.python_version()}")
        library = "this checkout" if args.library is None else str(args.library)
        print(f"{args.runs} fresh processes per case, the library of {library}, torch's default")
        print("threads, no MALLOC_ variable: a fit and three predicts on a 2 GiB memory map.\n")
        print("| case | worst (MiB) | best (MiB) | limit (MiB) | runs |")
        print("|---|---:|---:|---:|---|")
        for name in args.cases:
            results = [run_case(name, directory, args.library) for _ in range(args.runs)]
            growths = [result[0] for result in results if result is not None]
            limit = next((result[1] for result in results if result is not None), float("nan"))
            runs = ", ".join("failed" if r is None else f"{r[0]:.0f}" for r in results)
            worst = f"{max(growths):.0f}" if growths else "failed"
            best = f"{min(growths):.0f}" if growths else "failed"
            print(f"| {name} | {worst} | {best} | {limit:.0f} | {runs} |", flush=True)


if __name__ == "__main__":
    main()
