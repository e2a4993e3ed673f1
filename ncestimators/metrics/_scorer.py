"""A localization-mAP scorer for model selection with GridSearchCV."""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils.metadata_routing import MetadataRequest

from ._localization import TIOU_THRESHOLDS, localization_map, segments_to_frame
from ._validation import _check_tiou_thresholds

__all__ = ["make_localization_scorer"]


class _LocalizationScorer(_BaseScorer):
    """Localization mAP of ``estimator.localize(X)`` against sample-aligned ``segments``."""

    def __init__(self, tiou_thresholds):
        super().__init__(
            score_func=localization_map,
            sign=1,
            kwargs={"tiou_thresholds": tiou_thresholds},
            response_method="localize",
        )

    def __repr__(self):
        return f"make_localization_scorer(tiou_thresholds={self._kwargs['tiou_thresholds']!r})"

    def __call__(self, estimator, X, y=None, segments=None):
        """Score ``estimator`` on ``X``; ``y`` is ignored, ``segments`` is the ground truth."""
        return self._score(None, estimator, X, y, segments=segments)

    def _accept_sample_weight(self):
        return False

    def _score(self, method_caller, estimator, X, y_true, segments=None):
        if segments is None:
            raise ValueError(
                "The localization scorer needs the ground-truth segments of X. Call it as "
                "scorer(estimator, X, y, segments=segments), or enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and pass "
                "segments=segments to the fit of the search, e.g. "
                "GridSearchCV(...).fit(X, y, segments=segments)."
            )
        if len(segments) != len(X):
            raise ValueError(
                f"segments must hold one entry per sample of X: got {len(segments)} entries "
                f"for {len(X)} samples."
            )
        proposals = estimator.localize(X)
        thresholds = self._kwargs["tiou_thresholds"]
        return float(localization_map(segments_to_frame(segments), proposals, thresholds)["mean"])

    def _get_metadata_request(self):
        # Request segments by default; set_score_request still overrides this (it sets
        # _metadata_request, which the parent method reads).
        if hasattr(self, "_metadata_request"):
            return super()._get_metadata_request()
        request = MetadataRequest(owner=self)
        request.score.add_request(param="segments", alias=True)
        return request


def make_localization_scorer(tiou_thresholds=TIOU_THRESHOLDS):
    """Make a scorer of localization mAP for model selection (``GridSearchCV`` and friends).

    The scorer calls ``estimator.localize(X)``, which must return a proposals frame as
    :func:`localization_map` takes it with ``video`` the position of the video in ``X``, and
    scores it against the ground truth ``segments``: a sample-aligned list with one
    ``(n_segments_i, 3)`` array of ``(label, start, end)`` rows per video (see
    :func:`segments_to_frame`). The score is the mAP averaged over ``tiou_thresholds``.

    The scorer requests ``segments`` through scikit-learn's metadata routing, so under
    ``sklearn.set_config(enable_metadata_routing=True)`` a search passes the test fold's
    segments to it: ``GridSearchCV(est, grid, scoring=make_localization_scorer()).fit(X, y,
    segments=segments)``. The estimator's ``fit`` must then declare whether it wants them as
    well (``est.set_fit_request(segments=False)`` or ``True``). Called directly, the scorer
    takes them as an argument: ``scorer(estimator, X, y, segments=segments)``.

    Parameters
    ----------
    tiou_thresholds : float or array-like of floats, default=(0.1, 0.2, ..., 0.7)
        Thresholds over which the mAP is averaged; see :func:`localization_map`.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None, segments=None) -> float``; higher is better. It has
        ``set_score_request`` to rename or drop the ``segments`` request.

    Raises
    ------
    ValueError
        If the thresholds are not distinct values in (0, 1]. The scorer raises when it gets
        no ``segments`` (metadata routing disabled) or when their number differs from the
        number of samples in ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ncestimators.metrics import make_localization_scorer
    >>> class Oracle:
    ...     def localize(self, X):
    ...         return pd.DataFrame(
    ...             {"video": [0, 1], "label": [3, 3], "start": [0.0, 2.0], "end": [1.0, 4.0],
    ...              "score": [0.9, 0.8]}
    ...         )
    >>> segments = [np.array([[3, 0.0, 1.0]]), np.array([[3, 2.0, 5.0]])]
    >>> scorer = make_localization_scorer(tiou_thresholds=[0.5, 0.7])
    >>> scorer(Oracle(), np.zeros((2, 4)), None, segments=segments)
    0.75
    """
    thresholds = _check_tiou_thresholds(tiou_thresholds)
    return _LocalizationScorer(tuple(float(t) for t in thresholds))
