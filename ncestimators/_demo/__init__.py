"""``ncestimators demo``: the five estimators, their baselines and ablations, a visual report."""

# SPDX-License-Identifier: BSD-3-Clause

import importlib.util
import platform
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

from .. import __version__
from .._training import resolve_device
from ._report import write_report, write_results
from ._runs import RUNS, fine_tune

__all__ = ["run_demo"]


def run_demo(output="ncestimators-demo", *, quick=False):
    """Fit every estimator, print the table, write results.json, the plots and report.html.

    Returns the table as a DataFrame.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    runs = []
    experiments = list(RUNS)
    if importlib.util.find_spec("torchvision") is not None:
        experiments.append(fine_tune)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the baselines
        for experiment in experiments:
            runs.append(experiment(quick))
    frame = pd.DataFrame([run.row() for run in runs])
    seconds = time.perf_counter() - start
    metadata = {
        "mode": "quick" if quick else "full",
        "seconds": seconds,
        "device": resolve_device("auto"),
        "version": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    print(frame.to_markdown(index=False, floatfmt=".3f"))
    write_results(output / "results.json", frame, metadata)
    written = ["results.json"]
    if importlib.util.find_spec("matplotlib") is None:
        print("\nPlots and report.html need matplotlib: pip install 'ncestimators[plot]'.")
    else:
        from ._plots import save_figures

        figures = save_figures(runs, output)
        write_report(output / "report.html", frame, figures, metadata)
        written += [*figures.values(), "report.html"]
    if importlib.util.find_spec("torchvision") is None:
        print("The fine-tuning run needs the vision extra: pip install 'ncestimators[vision]'.")
    print(
        f"\n{len(runs)} runs in {seconds:.0f} s. Wrote {', '.join(written)} to {output.resolve()}"
    )
    return frame
