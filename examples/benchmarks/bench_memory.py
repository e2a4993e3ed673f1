"""Private memory of a fit and three predicts on a 2 GiB memory map, worst of several processes.

Runs every case of the memory gate (``tests/_memory_worker.py``: the five estimators, the
three extractors, ``FineTune`` on images and on 300 video files) in ``--runs`` fresh Python
processes, at the allocator's and torch's defaults, and prints a markdown table of the peak
growth of ``RssAnon`` per case: the worst run, the best, and the gate's limit. To measure
another version of the library, put it first on ``PYTHONPATH``; the inputs are written once into
``--directory`` and mapped by every run.

Run with ``python examples/benchmarks/bench_memory.py [--runs 5] [--cases NAME ...]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

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


def run_case(name, directory):
    """``(growth, limit)`` in MiB of one fresh process, or None with the error's last line."""
    completed = subprocess.run(
        [sys.executable, str(WORKER), name, str(directory)],
        capture_output=True,
        text=True,
        check=False,
        cwd=WORKER.parent,
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.directory or Path(scratch)
        print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
        print(f"{args.runs} fresh processes per case\n")
        print("| case | worst (MiB) | best (MiB) | limit (MiB) | runs |")
        print("|---|---:|---:|---:|---|")
        for name in args.cases:
            results = [run_case(name, directory) for _ in range(args.runs)]
            growths = [result[0] for result in results if result is not None]
            limit = next((result[1] for result in results if result is not None), float("nan"))
            runs = ", ".join("failed" if r is None else f"{r[0]:.0f}" for r in results)
            worst = f"{max(growths):.0f}" if growths else "failed"
            best = f"{min(growths):.0f}" if growths else "failed"
            print(f"| {name} | {worst} | {best} | {limit:.0f} | {runs} |", flush=True)


if __name__ == "__main__":
    main()
