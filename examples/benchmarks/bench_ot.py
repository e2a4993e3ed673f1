"""Benchmark ncestimators.ot.sinkhorn against POT, and ncestimators.ot.assign.

Pseudo-label setting: cosine similarities in [-1, 1] between features and 64 prototypes,
``eps = 20`` for ``sinkhorn`` and the same problem for POT (cost ``-scores``, ``reg = 1 / eps``),
uniform marginals, a fixed number of iterations (``stopThr=0``). Every cell is the median of
interleaved runs after one warm-up call of each contender. The markdown report is printed and
written next to this script, in ``results_ot.md``.

Run with ``python examples/benchmarks/bench_ot.py [--repeats 11]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import ot
import scipy
import torch
from scipy.optimize import linear_sum_assignment

from ncestimators._bench import cpu_model
from ncestimators.ot import assign, sinkhorn

EPS = 20.0
N_PROTOTYPES = 64
SINKHORN_PROBLEMS = [(8192, 3), (8192, 50), (65536, 3), (65536, 50)]
# assign needs n_rows <= n_cols, so the 4000 x 64 problem is passed transposed (same LSA problem).
ASSIGN_SHAPES = [(1000, 1000), (4000, 64)]
DEFAULT = "ncestimators `log` (default), torch f32"


def cosine_scores(n_samples, rng, dim=128):
    """Cosine similarities of features drawn around random unit prototypes."""
    prototypes = rng.standard_normal((N_PROTOTYPES, dim))
    prototypes /= np.linalg.norm(prototypes, axis=1, keepdims=True)
    labels = rng.integers(N_PROTOTYPES, size=n_samples)
    features = prototypes[labels] + 0.15 * rng.standard_normal((n_samples, dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    return (features @ prototypes.T).astype(np.float32)


def sinkhorn_contenders(scores, n_iter):
    """Callables that each compute the plan of the same problem, keyed by table label."""
    n_samples, n_prototypes = scores.shape
    scores_t = torch.from_numpy(scores)

    def pot(backend, method="sinkhorn"):
        arrays = (
            np.full(n_samples, 1 / n_samples),
            np.full(n_prototypes, 1 / n_prototypes),
            -scores.astype(np.float64),
        )
        if backend == "torch":
            a, b, cost = (torch.from_numpy(x.astype(np.float32)) for x in arrays)
        else:
            a, b, cost = (x.astype(backend) for x in arrays)
        return lambda: ot.sinkhorn(
            a, b, cost, 1 / EPS, method=method, numItermax=n_iter, stopThr=0, warn=False
        )

    return {
        DEFAULT: lambda: sinkhorn(scores_t, eps=EPS, n_iter=n_iter),
        "ncestimators `scaling`, torch f32": lambda: sinkhorn(
            scores_t, eps=EPS, n_iter=n_iter, method="scaling"
        ),
        "POT `sinkhorn`, numpy f32": pot(np.float32),
        "POT `sinkhorn`, numpy f64": pot(np.float64),
        "POT `sinkhorn`, torch f32": pot("torch"),
        "POT `sinkhorn_log`, numpy f32": pot(np.float32, "sinkhorn_log"),
        "POT `sinkhorn_log`, torch f32": pot("torch", "sinkhorn_log"),
    }


def median_times_ms(contenders, repeats):
    """Median wall time of each callable, alternating between them on every round."""
    for run in contenders.values():
        run()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: 1e3 * float(np.median(values)) for name, values in times.items()}


def max_plan_difference(scores, n_iter):
    """Largest entry-wise gap between our default plan and POT's in float64."""
    n_samples, n_prototypes = scores.shape
    reference = ot.sinkhorn(
        np.full(n_samples, 1 / n_samples),
        np.full(n_prototypes, 1 / n_prototypes),
        -scores.astype(np.float64),
        1 / EPS,
        numItermax=n_iter,
        stopThr=0,
        warn=False,
    )
    plan = sinkhorn(torch.from_numpy(scores), eps=EPS, n_iter=n_iter).double().numpy()
    return float(np.abs(plan - reference).max() / reference.max())


def sinkhorn_table(repeats, rng):
    columns, results, gaps = [], {}, []
    for n_samples, n_iter in SINKHORN_PROBLEMS:
        scores = cosine_scores(n_samples, rng)
        column = f"{n_samples}×{N_PROTOTYPES}, {n_iter} it"
        columns.append(column)
        for name, ms in median_times_ms(sinkhorn_contenders(scores, n_iter), repeats).items():
            results.setdefault(name, {})[column] = ms
        gaps.append(f"{column}: {max_plan_difference(scores, n_iter):.1e}")

    rows = [f"| method | {' | '.join(columns)} |", "|---" * (len(columns) + 1) + "|"]
    for name, by_column in results.items():
        cells = " | ".join(f"{by_column[column]:.2f}" for column in columns)
        rows.append(f"| {name} | {cells} |")
    ratios = []
    for column in columns:
        fastest_pot = min(ms[column] for name, ms in results.items() if name.startswith("POT"))
        ratios.append(f"{results[DEFAULT][column] / fastest_pot:.2f}")
    rows.append(f"| **default ÷ fastest POT** | {' | '.join(ratios)} |")
    agreement = "Max |plan − POT float64 plan| / max plan, default method: " + "; ".join(gaps) + "."
    return "\n".join(rows), agreement


def assign_table(repeats, rng):
    rows = ["| problem | `assign` | raw `linear_sum_assignment` |", "|---|---|---|"]
    for shape in ASSIGN_SHAPES:
        similarity = rng.uniform(size=shape)
        if shape[0] > shape[1]:
            similarity = similarity.T
        times = median_times_ms(
            {
                "assign": lambda s=similarity: assign(s),
                "lsa": lambda s=similarity: linear_sum_assignment(s, maximize=True),
            },
            repeats,
        )
        label = f"{shape[0]}×{shape[1]} U[0,1)" + (
            " (passed as `.T`)" if shape[0] > shape[1] else ""
        )
        rows.append(f"| {label} | {times['assign']:.2f} | {times['lsa']:.2f} |")
    return "\n".join(rows)


def machine_info():
    cpu = cpu_model()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    return (
        f"CPU: {cpu}, {os.cpu_count()} cores (load average at start: {load}); "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads; "
        f"POT {ot.__version__}; scipy {scipy.__version__}; numpy {np.__version__}; "
        f"Python {platform.python_version()}."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11, help="timed runs per cell (>= 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    machine = machine_info()
    sinkhorn_md, agreement = sinkhorn_table(max(args.repeats, 5), rng)
    assign_md = assign_table(max(args.repeats, 5), rng)
    report = "\n".join(
        [
            "# `ncestimators.ot` benchmark",
            "",
            machine,
            "",
            f"## `sinkhorn`: median wall time in ms ({max(args.repeats, 5)} interleaved runs)",
            "",
            f"Cosine-similarity scores in [-1, 1], eps = {EPS:g} (POT: cost = -scores, "
            f"reg = {1 / EPS:g}), uniform marginals, stopThr = 0.",
            "",
            sinkhorn_md,
            "",
            agreement,
            "",
            "## `assign`: median wall time in ms",
            "",
            assign_md,
            "",
        ]
    )
    print(report)
    Path(__file__).with_name("results_ot.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
