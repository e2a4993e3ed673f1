"""A grid search in one process and in several: do the workers' torch threads oversubscribe?

scikit-learn's conventions for thread control are joblib's worker limits (loky workers start
with ``OMP_NUM_THREADS`` and its kin set to ``cpu_count // n_jobs``) and ``threadpoolctl``'s
limits in a process. torch's intra-op pool is OpenMP's, so it follows both; this script
measures it. It prints the torch threads each kind of worker sees, and the wall time of the
same ``GridSearchCV`` over ``DynamicPrototypeClassifier`` (4 candidates × 3 folds on
``bench_overhead.py``'s data) with ``n_jobs=1`` and with ``n_jobs=`` the number of CPUs. On a
machine whose cores are all free, the several-job search should take at most the one-job
search's time: more would mean the workers' threads fight over the cores.

Run with ``python examples/benchmarks/bench_threads.py [--repeats 4]``; prints markdown.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import time

import numpy as np
import torch
from bench_overhead import make_data
from joblib import Parallel, delayed
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from ncestimators import DynamicPrototypeClassifier
from ncestimators._bench import cpu_model

GRID = {"lr": [1e-3, 3e-3], "hidden_dims": [(128,), (256,)]}


def torch_threads():
    """The number of threads torch's intra-op pool would use here."""
    return torch.get_num_threads()


def search_seconds(X, y, n_jobs, repeats):
    """Wall times of ``repeats`` grid searches with ``n_jobs`` workers, in order."""
    times = []
    for _ in range(repeats):
        search = GridSearchCV(
            DynamicPrototypeClassifier(max_epochs=3, device="cpu", random_state=0),
            GRID,
            cv=3,
            n_jobs=n_jobs,
        )
        start = time.perf_counter()
        search.fit(X, y)
        times.append(time.perf_counter() - start)
    return times


def main(repeats):
    n_cpus = os.cpu_count()
    X, y = make_data(6_000, 0)
    print(f"CPU: {cpu_model()}, {n_cpus} CPUs; torch {torch.__version__}.\n")
    with threadpool_limits(1):
        limited = torch_threads()
    workers = Parallel(n_jobs=n_cpus)(delayed(torch_threads)() for _ in range(n_cpus))
    threaded = Parallel(n_jobs=n_cpus, backend="threading")(
        delayed(torch_threads)() for _ in range(n_cpus)
    )
    print("| where | torch threads |")
    print("|---|---:|")
    print(f"| this process | {torch_threads()} |")
    print(f"| this process inside `threadpool_limits(1)` | {limited} |")
    print(f"| each of {n_cpus} loky workers (joblib's default backend) | {max(workers)} |")
    print(f"| each of {n_cpus} threads of joblib's threading backend | {max(threaded)} |")
    one = search_seconds(X, y, 1, repeats)
    several = search_seconds(X, y, n_cpus, repeats)
    # joblib keeps its loky workers between searches: the first search also starts them (and
    # imports torch in each), the later ones measure the search alone.
    print(
        f"\nGridSearchCV, {len(GRID['lr']) * len(GRID['hidden_dims'])} candidates × 3 folds; "
        f"the first search, then the median of the {repeats - 1} after it:\n"
    )
    print("| n_jobs | first s | later s | later × one job |")
    print("|---:|---:|---:|---:|")
    for n_jobs, times in ((1, one), (n_cpus, several)):
        later = float(np.median(times[1:]))
        print(f"| {n_jobs} | {times[0]:.1f} | {later:.1f} | {later / np.median(one[1:]):.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4, help="at least 2")
    main(parser.parse_args().repeats)
