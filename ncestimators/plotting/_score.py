"""Predicted against true quality scores, over the coarse grades that split the score range."""

# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np
from sklearn.utils import check_consistent_length, check_scalar
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import axes_or_new, import_pyplot

__all__ = ["ScoreDisplay"]


class ScoreDisplay:
    """Predicted against true quality scores, with the boundaries of the coarse grades.

    A :class:`~ncestimators.CoFInAIRegressor` splits its score range into ``n_grades`` grades
    of equal width and predicts a grade before refining the score within it. Grey lines mark
    the grade boundaries on both axes, so that each cell of the grid is a (true grade,
    predicted grade) pair: dots off the diagonal cells got the wrong grade. Predictions on the
    dashed diagonal are exact.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`, which draw it. All
    parameters are stored as attributes.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        True scores.

    y_pred : ndarray of shape (n_samples,)
        Predicted scores.

    n_grades : int
        Number of coarse grades the score range is split into.

    score_range : tuple of (float, float)
        The ``(lo, hi)`` range the grades split.

    Attributes
    ----------
    scatter_ : matplotlib.collections.PathCollection
        One dot per sample.

    line_ : matplotlib.lines.Line2D
        The diagonal of exact predictions.

    boundary_lines_ : list of matplotlib.lines.Line2D
        The grade boundaries inside the range, vertical ones first, then horizontal ones:
        ``2 * (n_grades - 1)`` lines.

    ax_ : matplotlib.axes.Axes
        Axes of the plot.

    figure_ : matplotlib.figure.Figure
        Figure of the plot.

    See Also
    --------
    ncestimators.metrics.srcc : The rank correlation these dots are scored by.

    Examples
    --------
    >>> from ncestimators.plotting import ScoreDisplay
    >>> display = ScoreDisplay.from_predictions(
    ...     [12.0, 35.5, 61.0, 88.0], [20.0, 31.0, 70.5, 79.0], n_grades=4, score_range=(0, 100))
    >>> len(display.boundary_lines_)
    6
    >>> display.scatter_.get_offsets().shape
    (4, 2)
    """

    def __init__(self, y_true, y_pred, *, n_grades, score_range):
        self.y_true = y_true
        self.y_pred = y_pred
        self.n_grades = n_grades
        self.score_range = score_range

    def plot(self, ax=None, *, scatter_kw=None):
        """Draw the dots, the diagonal and the grade boundaries.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        scatter_kw : dict, default=None
            Keyword arguments of the dots' ``matplotlib.axes.Axes.scatter``, such as their
            ``label`` in the legend (default "video") or ``color``.

        Returns
        -------
        display : ScoreDisplay
            This display, with its artists stored as attributes.
        """
        y_true, y_pred, lo, hi = _checked_scores(
            self.y_true, self.y_pred, self.n_grades, self.score_range
        )
        self.ax_, self.figure_ = axes_or_new(ax, "ScoreDisplay.plot", figsize=(5.8, 5.2))
        boundaries = np.linspace(lo, hi, self.n_grades + 1)[1:-1]
        self.boundary_lines_ = [self.ax_.axvline(b, color="0.85", lw=1) for b in boundaries]
        self.boundary_lines_ += [self.ax_.axhline(b, color="0.85", lw=1) for b in boundaries]
        if len(boundaries):
            self.boundary_lines_[0].set_label("grade boundary")
        # The view covers the range and every score, even one outside the range.
        low = min(lo, y_true.min(), y_pred.min())
        high = max(hi, y_true.max(), y_pred.max())
        (self.line_,) = self.ax_.plot(
            [low, high], [low, high], color="0.5", ls="--", lw=1, label="exact prediction"
        )
        self.scatter_ = self.ax_.scatter(
            y_true, y_pred, **{"s": 14, "color": "#4c72b0", "label": "video", **(scatter_kw or {})}
        )
        self.ax_.set_xlim(low, high)
        self.ax_.set_ylim(low, high)
        self.ax_.set_aspect("equal")
        self.ax_.set_xlabel("true score")
        self.ax_.set_ylabel("predicted score")
        self.ax_.legend(loc="upper left")
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, ax=None, scatter_kw=None):
        """Draw the predictions of a fitted :class:`~ncestimators.CoFInAIRegressor` on X.

        Parameters
        ----------
        estimator : CoFInAIRegressor
            A fitted regressor; its ``n_grades`` and ``score_range_`` give the grades.

        X : list of array-like of shape (T_i, n_features) or array-like
            Clip features of each video, in any form the estimator's ``predict`` accepts.

        y : array-like of shape (n_videos,)
            True scores.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        scatter_kw : dict, default=None
            Keyword arguments of the dots' ``matplotlib.axes.Axes.scatter``.

        Returns
        -------
        display : ScoreDisplay
            The drawn display.

        Examples
        --------
        >>> from ncestimators import CoFInAIRegressor
        >>> from ncestimators.datasets import make_aqa_sequences
        >>> from ncestimators.plotting import ScoreDisplay
        >>> X, y = make_aqa_sequences(n_videos=20, n_features=6, random_state=0)
        >>> model = CoFInAIRegressor(d_procedure=8, d_score=4, max_epochs=2, random_state=0)
        >>> display = ScoreDisplay.from_estimator(model.fit(X, y), X, y)
        >>> len(display.boundary_lines_) == 2 * (model.n_grades - 1)
        True
        """
        import_pyplot("ScoreDisplay.from_estimator")
        check_is_fitted(estimator, "score_range_")
        return cls.from_predictions(
            y,
            estimator.predict(X),
            n_grades=estimator.n_grades,
            score_range=estimator.score_range_,
            ax=ax,
            scatter_kw=scatter_kw,
        )

    @classmethod
    def from_predictions(cls, y_true, y_pred, *, n_grades, score_range, ax=None, scatter_kw=None):
        """Draw given predictions against the true scores.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True scores.

        y_pred : array-like of shape (n_samples,)
            Predicted scores.

        n_grades : int
            Number of coarse grades the score range is split into (the regressor's
            ``n_grades``).

        score_range : tuple of (float, float)
            The ``(lo, hi)`` range the grades split (the regressor's ``score_range_``).

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        scatter_kw : dict, default=None
            Keyword arguments of the dots' ``matplotlib.axes.Axes.scatter``.

        Returns
        -------
        display : ScoreDisplay
            The drawn display.
        """
        import_pyplot("ScoreDisplay.from_predictions")
        display = cls(y_true, y_pred, n_grades=n_grades, score_range=score_range)
        return display.plot(ax, scatter_kw=scatter_kw)


def _checked_scores(y_true, y_pred, n_grades, score_range):
    """The scores as finite float arrays of one length and the range as ``lo < hi``."""
    check_scalar(n_grades, "n_grades", numbers.Integral, min_val=1)
    y_true, y_pred = (
        column_or_1d(np.asarray(scores, dtype=np.float64)) for scores in (y_true, y_pred)
    )
    check_consistent_length(y_true, y_pred)
    if not len(y_true) or not np.isfinite(y_true).all() or not np.isfinite(y_pred).all():
        raise ValueError(
            "y_true and y_pred must be non-empty and finite; drop the samples without a score."
        )
    try:
        lo, hi = (float(bound) for bound in score_range)
    except (TypeError, ValueError):
        lo = hi = np.nan
    if not (np.isfinite([lo, hi]).all() and lo < hi):
        raise ValueError(
            f"score_range must be (lo, hi) with finite lo < hi, got {score_range!r}; pass "
            "the regressor's score_range_."
        )
    return y_true, y_pred, lo, hi
