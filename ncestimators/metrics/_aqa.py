"""Action quality assessment metrics: SRCC, its Fisher-z mean and relative L2."""

# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping

import numpy as np
from scipy.stats import spearmanr

from ._validation import _check_1d_floats, _check_same_length

__all__ = ["srcc", "fisher_z_mean", "relative_l2"]

# fisher_z_mean replaces correlations of exactly +-1 (whose artanh is infinite) by +-_R_MAX.
_R_MAX = 1 - 1e-12


def srcc(y_true, y_pred):
    """Spearman rank correlation coefficient (SRCC) between true and predicted scores.

    The metric of action quality assessment: it only asks the predictions to rank the
    performances like the judges did. Ties get average ranks.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True scores.

    y_pred : array-like of shape (n_samples,)
        Predicted scores.

    Returns
    -------
    rho : float
        The correlation, in [-1, 1].

    Raises
    ------
    ValueError
        If the inputs differ in length, hold fewer than two samples, contain NaN or infinity,
        or if either of them is constant (the correlation is undefined then).

    See Also
    --------
    fisher_z_mean : Average the per-action correlations of a benchmark.

    Examples
    --------
    >>> from ncestimators.metrics import srcc
    >>> round(srcc([70.1, 82.3, 65.0, 90.4], [0.2, 0.5, 0.1, 0.4]), 6)
    0.8
    """
    y_true = _check_1d_scores(y_true, "y_true")
    y_pred = _check_1d_scores(y_pred, "y_pred")
    _check_same_length(y_true, y_pred)
    if len(y_true) < 2:
        raise ValueError(
            f"srcc needs at least 2 samples to rank, got {len(y_true)}; pass more samples."
        )
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if np.all(values == values[0]):
            raise ValueError(
                f"{name} is constant (all values equal {values[0]!r}), so the rank correlation "
                "is undefined; pass scores that vary."
            )
    return float(spearmanr(y_true, y_pred).statistic)


def fisher_z_mean(correlations):
    """Average correlation coefficients through Fisher's z-transform.

    AQA benchmarks report one SRCC per action (or per apparatus) and their average as
    :math:`\\bar\\rho = \\tanh\\left(\\frac{1}{K} \\sum_k \\operatorname{artanh} \\rho_k\\right)`,
    which, unlike the arithmetic mean, treats correlations on the scale where their sampling
    distribution is close to normal.

    Parameters
    ----------
    correlations : array-like of shape (n_correlations,) or mapping
        Correlation coefficients in [-1, 1], e.g. one :func:`srcc` per action. For a mapping
        (such as a dict or a :class:`pandas.Series` keyed by action) the values are used.

    Returns
    -------
    mean : float
        The Fisher-z mean, in [-1, 1].

    Raises
    ------
    ValueError
        If there are no correlations, or one is NaN or outside [-1, 1].

    Notes
    -----
    :math:`\\operatorname{artanh}(\\pm 1)` is infinite, so a correlation of exactly
    :math:`\\pm 1` is replaced by :math:`\\pm(1 - 10^{-12})`, whose z-value is about
    :math:`\\pm 14.2`. A perfect correlation then pulls the mean strongly towards itself without
    making it undefined: the mean of 1 and -1 is 0, and the mean of a single 1 is 1 to
    within :math:`10^{-12}`.

    Examples
    --------
    >>> from ncestimators.metrics import fisher_z_mean
    >>> round(fisher_z_mean([0.9, 0.5]), 4)  # the arithmetic mean would be 0.7
    0.7661
    >>> round(fisher_z_mean({"ball": 0.81, "clubs": 0.81}), 4)
    0.81
    """
    if isinstance(correlations, Mapping):
        correlations = list(correlations.values())
    values = _check_1d_floats(correlations, "correlations")
    if len(values) == 0:
        raise ValueError("correlations is empty; pass at least one correlation coefficient.")
    if np.isnan(values).any():
        raise ValueError(
            "correlations contain NaN; compute every correlation on non-constant scores first."
        )
    outside = values[np.abs(values) > 1]
    if len(outside):
        raise ValueError(
            f"Correlation coefficients must lie in [-1, 1], got {outside.tolist()}; pass "
            "correlations, not scores or z-values."
        )
    z = np.arctanh(np.clip(values, -_R_MAX, _R_MAX))
    return float(np.tanh(z.mean()))


def relative_l2(y_true, y_pred, score_range=None):
    """Relative L2 distance (RL2) between true and predicted scores, times 100.

    .. math::

        \\mathrm{RL2} = \\frac{100}{N} \\sum_{i=1}^N
            \\left(\\frac{\\hat s_i - s_i}{s_{\\max} - s_{\\min}}\\right)^2,

    the squared error measured in units of the score range, so that it can be compared
    across actions scored on different scales. The factor 100 is the convention of the AQA
    papers, whose tables report RL2 scaled this way.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True scores :math:`s_i`.

    y_pred : array-like of shape (n_samples,)
        Predicted scores :math:`\\hat s_i`.

    score_range : (float, float), default=None
        ``(s_min, s_max)`` with ``s_min < s_max``. None takes the range of ``y_true``, which is
        what the AQA evaluation code does on a test set.

    Returns
    -------
    rl2 : float
        The relative L2 distance; 0 for perfect predictions.

    Raises
    ------
    ValueError
        If the inputs differ in length, are empty, contain NaN or infinity, or if
        ``score_range`` is not an increasing pair (or, with None, ``y_true`` is constant).

    Examples
    --------
    >>> from ncestimators.metrics import relative_l2
    >>> relative_l2([10.0, 20.0], [12.0, 17.0], score_range=(0, 20))  # 100 * (0.1² + 0.15²) / 2
    1.625
    """
    y_true = _check_1d_scores(y_true, "y_true")
    y_pred = _check_1d_scores(y_pred, "y_pred")
    _check_same_length(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("relative_l2 got empty inputs; pass at least one score.")
    if score_range is None:
        low, high = y_true.min(), y_true.max()
        if not high > low:
            raise ValueError(
                f"y_true is constant ({low!r}), so it gives no score range; pass "
                "score_range=(s_min, s_max)."
            )
    else:
        low, high = _check_score_range(score_range)
    return float(100 * np.mean(((y_pred - y_true) / (high - low)) ** 2))


def _check_1d_scores(values, name):
    array = _check_1d_floats(values, name)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity; drop or impute those samples first.")
    return array


def _check_score_range(score_range):
    try:
        low, high = (float(bound) for bound in score_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"score_range must be a pair (s_min, s_max) of numbers, got {score_range!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise ValueError(f"score_range must be finite with s_min < s_max, got {score_range!r}.")
    return low, high
