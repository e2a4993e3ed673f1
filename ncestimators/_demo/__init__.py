"""``ncestimators demo``: each estimator against a plain alternative and its paper's ablation.

Two tracks. The embedded track runs on data shipped with the library (real digits, and
generators with a known structure) and needs nothing else. The real track runs when the user
has real pretrained weights (``--weights``): ImageNet MobileNetV2 features of real images, and
Fashion-MNIST and CamVid with ``--data``. Every row is fitted over several seeds; the console,
``results.json`` and ``report.html`` give the per-seed scores, their means and spreads, and a
verdict (helps / not shown / hurts) from the paired differences.

Layout: this module runs the tracks and writes the outputs; ``_runs`` holds the embedded
track's experiments, ``_real`` the real track's, ``_experiment`` an experiment and its summary,
``_paired`` the paired comparisons, ``_report`` and ``_plots`` the outputs. The demo sits on
top of everything (the estimators, ``adapters``, ``datasets``, ``metrics``); only ``cli``
imports it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import importlib.util
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, cpu_count, delayed
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from .. import __version__
from .._bench import package_versions
from .._runtime import resolve_device
from ._experiment import sentences, summarise
from ._report import console_legend, console_table, how_to_read, write_report, write_results
from ._runs import EXPERIMENTS

__all__ = ["check_options", "run_demo"]

TRACK_CHOICES = ("all", "embedded", "real")


def run_demo(
    output="ncestimators-demo", *, quick=False, seeds=3, weights=None, data=None, track="all",
    n_jobs=None,
):  # fmt: skip
    """Fit every row over ``seeds`` seeds, print the table, write results.json and report.html.

    Parameters
    ----------
    output : str or path-like, default="ncestimators-demo"
        Folder of results.json, report.html and the figures; nothing is written elsewhere.

    quick : bool, default=False
        Fewer epochs (and smaller data for the slowest rows): a smoke run, not results.

    seeds : int, default=3
        Seeds of every row (0, 1, ...), at least 2 for a spread and a verdict.

    weights : str, path-like or None, default=None
        A torchvision ``mobilenet_v2`` checkpoint (ImageNet weights) for the real track, or
        ``"DEFAULT"`` for torchvision's weights in torch's hub cache; None skips the track.

    data : str, path-like or None, default=None
        Folder holding ``fashion-mnist/`` (idx files) and ``camvid/`` (SegNet layout) for the
        real track; None uses the digits instead and leaves CamVid out.

    track : {"all", "embedded", "real"}, default="all"
        Which rows to run; "all" runs the real track only when ``weights`` is given.

    n_jobs : int or None, default=None
        Fits run at once, each on one thread; None uses every CPU core this process may use
        (one on CUDA). The numbers do not depend on it.

    Returns
    -------
    rows : list of dict
        The rows of results.json.
    """
    check_options(seeds=seeds, weights=weights, data=data, track=track, n_jobs=n_jobs)
    start = time.perf_counter()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    experiments = _experiments(weights, data, track)
    device = resolve_device("auto")
    n_jobs = n_jobs or (1 if device == "cuda" else cpu_count())
    seed_list = list(range(seeds))
    draws, seconds = _run(experiments, seed_list, quick, n_jobs)
    rows = [
        summarise(experiment, seed_list, draws[experiment.key], seconds[experiment.key])
        for experiment in experiments
    ]
    _print(rows, seed_list, quick)
    figures = _save_figures(experiments, draws, output)
    metadata = {
        "mode": "quick" if quick else "full",
        "seeds": seed_list,
        "jobs": n_jobs,
        "seconds": time.perf_counter() - start,
        "device": device,
        "version": __version__,
        "versions": package_versions(),
        "python": platform.python_version(),
    }
    write_results(output / "results.json", rows, metadata)
    written = ["results.json"]
    if figures is not None:
        captions = {e.key: f"{e.estimator}: {e.caption}" for e in experiments if e.figure}
        write_report(output / "report.html", rows, figures, captions, metadata)
        written += [*figures.values(), "report.html"]
    print(
        f"\n{len(rows)} rows x {seeds} seeds in {metadata['seconds']:.0f} s ({n_jobs} parallel "
        f"jobs). Wrote {', '.join(written)} to {output.resolve()}"
    )
    return rows


def check_options(*, seeds, weights, data, track, n_jobs=None):
    """Raise a ValueError that says what to change if the options cannot make a run."""
    if n_jobs is not None and n_jobs < 1:
        raise ValueError(
            f"jobs={n_jobs}: pass a positive number of fits to run at once, or leave it out "
            "for one per CPU core."
        )
    if seeds < 2:
        raise ValueError(
            f"seeds={seeds}: a spread and a verdict need at least 2 seeds; pass 2 or more."
        )
    if track not in TRACK_CHOICES:
        raise ValueError(f"track={track!r}: choose one of {TRACK_CHOICES}.")
    if weights is None and (data is not None or track == "real"):
        raise ValueError(
            "The real track needs real pretrained weights: pass --weights PATH (a "
            "torchvision mobilenet_v2 checkpoint) or --weights DEFAULT (torchvision's "
            "weights in torch's hub cache)."
        )
    if weights is not None:
        from ._real import checkpoint

        checkpoint(weights)
    missing = [
        name for name in ("fashion-mnist", "camvid") if data and not (Path(data) / name).is_dir()
    ]
    if missing:
        raise ValueError(
            f"--data {data} has no {' or '.join(missing)} folder; pass the folder that holds "
            "fashion-mnist/ (the four idx .gz files) and camvid/ (train/, trainannot/, val/, "
            "valannot/)."
        )


def _experiments(weights, data, track):
    experiments = []
    vision = importlib.util.find_spec("torchvision") is not None
    if track in ("all", "embedded"):
        experiments += [e for e in EXPERIMENTS if vision or e.key != "fine_tune"]
        if not vision:
            print("The fine-tuning row needs the vision extra: pip install 'ncestimators[vision]'.")
    if weights is not None and track in ("all", "real"):
        if not vision:
            raise ValueError(
                "The real track runs MobileNetV2 through torchvision: pip install "
                "'ncestimators[vision]'."
            )
        from ._real import experiments as real_experiments

        experiments += real_experiments(weights, data)
    return experiments


def _run(experiments, seeds, quick, n_jobs):
    """Every seed of every experiment: ``{key: [Draw per seed]}``, ``{key: (wall, CPU seconds)}``.

    Shared inputs (extracted features) are computed first, in this process; then the seeds
    run in ``n_jobs`` worker processes, with a progress bar over them.
    """
    inputs, seconds = {}, {}
    for experiment in experiments:
        seconds[experiment.key] = np.zeros(2)
        if experiment.inputs is None:
            inputs[experiment.key] = {}
            continue
        print(f"Extracting the features of {experiment.estimator} ({experiment.data}) ...")
        with _stopwatch(seconds[experiment.key]):
            inputs[experiment.key] = experiment.inputs(quick)
    tasks = [(experiment, seed) for experiment in experiments for seed in seeds]
    results = {}
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    with tqdm(total=len(tasks), desc="fitting", unit="seed") as bar, warnings.catch_warnings():
        # loky replaces a worker whose memory grew by a few hundred MB (fine-tuning's
        # buffers) and says so; the seeds it runs are not affected.
        warnings.filterwarnings("ignore", "A worker stopped while some jobs", UserWarning)
        for key, seed, draw, elapsed in parallel(
            delayed(_one_seed)(e.key, e.draw, seed, quick, inputs[e.key]) for e, seed in tasks
        ):
            results[key, seed] = draw
            seconds[key] += elapsed
            bar.set_postfix_str(f"{key}, seed {seed}")
            bar.update()
    draws = {e.key: [results[e.key, seed] for seed in seeds] for e in experiments}
    return draws, seconds


@contextlib.contextmanager
def _stopwatch(total):
    """Add the wall-clock and CPU seconds (this process) of the block to ``total``."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    total += (time.perf_counter() - wall, time.process_time() - cpu)


def _one_seed(key, draw, seed, quick, inputs):
    """Run one seed on one thread; return it with its key, seed, wall-clock and CPU seconds.

    One thread per fit and several fits at once: these small networks gain little from
    intra-op threads, and threads that outnumber free cores cost several times over (a
    CoFInAI fit took 16 s on one thread and 69 s on two beside another job).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    elapsed = np.zeros(2)
    try:
        with threadpool_limits(limits=1), warnings.catch_warnings(), _stopwatch(elapsed):
            warnings.simplefilter("ignore")  # convergence chatter of the baselines
            result = draw(seed, quick, **inputs)
    finally:
        torch.set_num_threads(threads)
    return key, seed, result, elapsed


def _save_figures(experiments, draws, output):
    """The first seed's figure of every row that has one, or None without matplotlib."""
    if importlib.util.find_spec("matplotlib") is None:
        print("\nPlots and report.html need matplotlib: pip install 'ncestimators[plot]'.")
        return None
    from ._plots import save_figures

    plots = {e.key: (e.figure, draws[e.key][0].plot) for e in experiments if e.figure}
    return save_figures(plots, output)


def _print(rows, seeds, quick):
    if quick:
        print(
            "\nQuick run: fewer epochs and less data than the rows describe, a smoke test of "
            "the demo; its numbers are not results."
        )
    for track in ("embedded", "real"):
        track_rows = [row for row in rows if row["track"] == track]
        if not track_rows:
            continue
        print(f"\n{track.capitalize()} track, seeds {seeds}:\n")
        print(console_table(track_rows))
        print("\n" + console_legend(track_rows))
        words = [sentence for row in track_rows for sentence in sentences(row)]
        if words:
            print("\nWhere ours does not win:")
            print("\n".join(f"* {sentence}" for sentence in words))
    print("\n" + how_to_read(len(seeds)))
