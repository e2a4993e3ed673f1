"""Paired comparisons over seeds: does our method beat an alternative fitted on the same draws?

Both models are fitted on the same data with the same seed, for several seeds; the per-seed
differences (ours minus theirs) are averaged, with a two-sided 95 % Student-t interval. The
verdict is "helps" when the whole interval is above 0, "hurts" when it is below 0 and "not
shown" when it contains 0 (or when a single seed gives no interval).
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from scipy import stats

__all__ = []

VERDICTS = ("helps", "not shown", "hurts")


def paired_difference(differences, confidence=0.95):
    """Mean of the per-seed differences and the half-width of its Student-t interval.

    Parameters
    ----------
    differences : array-like of shape (n_seeds,)
        Ours minus the alternative, one value per seed.

    confidence : float, default=0.95
        Coverage of the two-sided interval.

    Returns
    -------
    mean : float
        Mean difference.

    half_width : float
        Half-width of the interval (NaN for fewer than two seeds; 0 when every seed gives the
        same difference).
    """
    differences = np.asarray(differences, dtype=float)
    if differences.ndim != 1 or len(differences) == 0:
        raise ValueError(
            f"differences must be a non-empty 1-D array of per-seed values, got shape "
            f"{differences.shape}."
        )
    if len(differences) < 2:
        return float(differences.mean()), float("nan")
    quantile = stats.t.ppf((1 + confidence) / 2, len(differences) - 1)
    return float(differences.mean()), float(quantile * stats.sem(differences))


def verdict(mean, half_width):
    """The verdict on the interval ``mean ± half_width``: "helps", "hurts" or "not shown"."""
    if mean - half_width > 0:
        return "helps"
    if mean + half_width < 0:
        return "hurts"
    return "not shown"  # also for a NaN half-width: one seed decides nothing
