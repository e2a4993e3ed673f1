"""Paired comparisons over seeds: the statistic every ablation table of the benchmarks prints.

Two variants fitted on the same draws (same data, same seed) are compared seed by seed; the
mean of the per-seed differences gets a two-sided 95 % Student-t interval. A claim "A beats B"
holds when the whole interval is above 0, is reversed when it is below 0, and is not shown
when it contains 0.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd

from ncestimators._demo._paired import paired_difference as mean_and_half_width
from ncestimators._demo._paired import verdict as demo_verdict

# The demo says whether our method helps; a benchmark says whether a paper's claim holds.
_CLAIM_VERDICTS = {"helps": "holds", "not shown": "not shown", "hurts": "reversed"}


def paired_difference(differences, confidence=0.95):
    """Mean, interval half-width and wins (> 0) of per-seed differences, and their number."""
    differences = np.asarray(differences, dtype=float)
    mean, half_width = mean_and_half_width(differences, confidence)
    return mean, half_width, int((differences > 0).sum()), len(differences)


def verdict(mean, half_width):
    return _CLAIM_VERDICTS[demo_verdict(mean, half_width)]


def paired_table(table, claims, *, value, by="model", seed="seed", scale=1.0):
    """Markdown table of claims "``higher`` scores above ``lower`` on ``value``", paired by seed.

    Parameters
    ----------
    table : DataFrame
        One row per variant and seed, with columns ``by``, ``seed`` and ``value``.
    claims : list of (str, str, str)
        ``(claim as the paper states it, variant it says scores higher, the other)``; for a
        value where lower is better (an error, a distance), name the worse variant first.
    value : str
        Column compared.
    scale : float
        Factor for display (100 for percentages).
    """
    wide = table.pivot_table(index=seed, columns=by, values=value)
    rows = []
    for claim, higher, lower in claims:
        mean, half_width, wins, n = paired_difference(wide[higher] - wide[lower])
        rows.append(
            {
                "claim": claim,
                "difference": f"{scale * mean:+.3f} ± {scale * half_width:.3f}",
                "wins": f"{wins}/{n}",
                "verdict": verdict(mean, half_width),
            }
        )
    return pd.DataFrame(rows).to_markdown(index=False)
