"""One row of the demo: an experiment, its per-seed draws, and their summary with verdicts.

An :class:`Experiment` says what is compared (our estimator, the plain alternative, the
paper's ablation, a reference) and how one seed is run; a :class:`Draw` holds one seed's
scores. :func:`summarise` turns the draws into the row that the console, ``results.json``
and ``report.html`` show: per-seed scores, means and standard deviations, and the paired
difference of ours against each alternative with its verdict.
"""

# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._paired import paired_difference, verdict

__all__ = []

# What ours is compared with: the plain alternative and the paper's ablation get a verdict;
# the reference is shown for scale only (a model of another kind or size).
COMPARED = ("plain", "ablation")
ROLES = ("ours", *COMPARED, "reference")
# The documentation site, as pyproject's [project.urls] names it; each row links its user guide.
DOCUMENTATION_URL = "https://ncestimators.readthedocs.io/en/latest/"


@dataclass
class Draw:
    """One seed of an experiment: a score per role, our fit's seconds, the figure's data."""

    scores: dict
    fit_seconds: float
    plot: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Experiment:
    """What one row compares, and how to run one seed of it.

    ``names`` maps each role (``ours``, ``plain`` and optionally ``ablation`` and
    ``reference``) to what plays it. ``draw(seed, quick, **inputs)`` fits every model on the
    seed's data and returns a :class:`Draw` with a score for each role; it runs in a worker
    process, so it must pickle. ``inputs(quick)``, when given, runs once before the seeds, in
    the main process (features that every seed shares), and returns the keyword arguments of
    every draw. ``figure(plot)`` draws the first seed's figure. ``guide`` is the page of the
    method in the documentation, relative to ``DOCUMENTATION_URL``.
    """

    key: str
    track: str
    estimator: str
    data: str
    metric: str
    names: dict
    draw: Callable
    guide: str
    inputs: Callable | None = None
    figure: Callable | None = None
    caption: str = ""


def summarise(experiment, seeds, draws, seconds):
    """The row of ``experiment``: per-seed scores, mean and spread, paired verdicts.

    Parameters
    ----------
    experiment : Experiment
    seeds : list of int
        The seeds, in the order of ``draws``.
    draws : list of Draw
    seconds : (float, float)
        Wall-clock and CPU seconds of the whole row: its inputs and every fit of every seed,
        each fit on one thread (so the CPU seconds are those of a quiet core).

    Returns
    -------
    row : dict
        JSON-ready: the experiment's description and the address of the method's page in the
        documentation, then for each role its name, per-seed
        scores, mean and standard deviation (ddof=1), and for the compared roles the
        ``difference`` ours minus theirs (per seed, mean, 95 % half-width, wins, verdict).
    """
    row = {
        "key": experiment.key,
        "track": experiment.track,
        "estimator": experiment.estimator,
        "data": experiment.data,
        "metric": experiment.metric,
        "documentation": DOCUMENTATION_URL + experiment.guide,
        "seeds": list(seeds),
    }
    ours = np.array([draw.scores["ours"] for draw in draws], dtype=float)
    for role in ROLES:
        if role not in experiment.names:
            row[role] = None
            continue
        scores = np.array([draw.scores[role] for draw in draws], dtype=float)
        row[role] = {
            "name": experiment.names[role],
            "per_seed": scores.tolist(),
            "mean": float(scores.mean()),
            "std": float(scores.std(ddof=1)) if len(scores) > 1 else float("nan"),
        }
        if role in COMPARED:
            mean, half_width = paired_difference(ours - scores)
            row[role]["difference"] = {
                "per_seed": (ours - scores).tolist(),
                "mean": mean,
                "half_width_95": half_width,
                "wins": int((ours > scores).sum()),
                "verdict": verdict(mean, half_width),
            }
    row["fit_seconds"] = float(np.mean([draw.fit_seconds for draw in draws]))
    row["seconds"], row["cpu_seconds"] = (float(value) for value in seconds)
    return row


def sentences(row):
    """Plain words on the row: where ours does not beat an alternative, or the reference."""
    ours = row["ours"]
    words = []
    for role, what in (("plain", "the plain alternative"), ("ablation", "the paper's ablation")):
        if row[role] is None or row[role]["difference"]["verdict"] == "helps":
            continue
        difference = row[role]["difference"]
        losing = difference["verdict"] == "hurts"
        words.append(
            f"{ours['name']} {'loses to' if losing else 'does not beat'} {what}, "
            f"{row[role]['name']}: {row['metric']} {ours['mean']:.3f} vs "
            f"{row[role]['mean']:.3f}, difference {difference['mean']:+.3f} ± "
            f"{difference['half_width_95']:.3f}"
            f"{'' if losing else ', within the seed-to-seed noise'} "
            f"(ours ahead on {difference['wins']} of {len(row['seeds'])} seeds)."
        )
    reference = row["reference"]
    if reference is not None and reference["mean"] > ours["mean"]:
        words.append(
            f"{ours['name']} scores below the reference, {reference['name']}: "
            f"{ours['mean']:.3f} vs {reference['mean']:.3f} (shown for scale, no verdict)."
        )
    return words
