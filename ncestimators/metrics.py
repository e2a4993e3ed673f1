"""Evaluation metrics of the five tasks, and a localization scorer for model selection.

* Action quality assessment: :func:`srcc`, :func:`fisher_z_mean`, :func:`relative_l2`.
* Temporal action localization: :func:`localization_map` (ActivityNet protocol),
  :func:`segments_to_frame` and :func:`make_localization_scorer` for ``GridSearchCV``.
* Semantic segmentation: :func:`iou_per_class`, :func:`mean_iou`.
* Long-tailed classification: :func:`shot_accuracy`.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils.metadata_routing import MetadataRequest

__all__ = [
    "srcc",
    "fisher_z_mean",
    "relative_l2",
    "localization_map",
    "segments_to_frame",
    "make_localization_scorer",
    "iou_per_class",
    "mean_iou",
    "shot_accuracy",
]

# The tIoU thresholds of THUMOS14 weakly-supervised localization: 0.1, 0.2, ..., 0.7.
TIOU_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)

# fisher_z_mean replaces correlations of exactly +-1 (whose artanh is infinite) by +-_R_MAX.
_R_MAX = 1 - 1e-12

_TRUTH_COLUMNS = ("video", "label", "start", "end")
_PROPOSAL_COLUMNS = ("video", "label", "start", "end", "score")


# --- action quality assessment -----------------------------------------------------------------


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


# --- temporal action localization --------------------------------------------------------------


def localization_map(true_segments, proposals, tiou_thresholds=TIOU_THRESHOLDS):
    """Mean average precision of temporal action proposals (ActivityNet protocol).

    For every tIoU threshold and every class that has ground truth, the class's proposals are
    taken by decreasing score; each is matched to the not yet matched ground-truth segment of
    the same video and class that it overlaps most, and counts as a true positive if that
    temporal IoU is at least the threshold, as a false positive otherwise (duplicate
    detections of one action are false positives). The class's average precision is the area
    under its interpolated precision-recall curve, and the mAP at a threshold is the mean over
    the classes. This is the evaluation of ActivityNet's ``ANETdetection`` [1]_, which the
    THUMOS14 results of weakly-supervised localization papers (e.g. CASE [2]_) use.

    Parameters
    ----------
    true_segments : pandas.DataFrame
        Ground truth, one row per action instance, with columns ``video``, ``label``,
        ``start`` and ``end`` (other columns are ignored). Videos and labels may be any
        hashable values that compare equal in both frames; times are in any unit shared with
        ``proposals``. :func:`segments_to_frame` builds it from per-video arrays.

    proposals : pandas.DataFrame
        Scored detections, with the same columns plus ``score`` (higher is more confident).
        It may be empty. Proposals of labels without ground truth are ignored.

    tiou_thresholds : float or array-like of floats, default=(0.1, 0.2, ..., 0.7)
        Distinct temporal-IoU thresholds in (0, 1]. The default is the THUMOS14 set.

    Returns
    -------
    map : pandas.Series
        The mAP at each threshold, indexed by the threshold rounded to 10 decimals (so that
        ``result[0.3]`` works), followed by the entry ``"mean"``, the average over the
        thresholds (the "AVG" column of localization tables). The index is named ``"tiou"``;
        all values lie in [0, 1].

    Raises
    ------
    ValueError
        If a frame lacks a column, has NaN in one, or non-numeric or infinite times or
        scores; if a segment ends before it starts; if ``true_segments`` is empty; or if the
        thresholds are not distinct values in (0, 1].

    See Also
    --------
    make_localization_scorer : This metric as a ``GridSearchCV`` scorer.

    Notes
    -----
    The tIoU of segments :math:`[s_1, e_1]` and :math:`[s_2, e_2]` is
    :math:`\\max(0, \\min(e_1, e_2) - \\max(s_1, s_2)) / ((e_1 - s_1) + (e_2 - s_2) - I)`,
    with :math:`I` the numerator; it is 0 when both segments have length zero, so such
    segments never match. With the proposals of a class ranked by score, precision
    :math:`p_i` and recall :math:`r_i` after the :math:`i`-th proposal, and
    :math:`n_{\\mathrm{gt}}` ground-truth segments of the class,

    .. math::

        \\mathrm{AP} = \\sum_{i\\,:\\,\\text{true positive}} \\frac{1}{n_{\\mathrm{gt}}}
            \\max_{j \\ge i} p_j,

    the sum over the recall steps of the monotone (interpolated) precision envelope, which is
    what ActivityNet's ``interpolated_prec_rec`` computes. A class with ground truth but no
    proposal has AP 0. Ties are broken deterministically: proposals with equal scores keep
    their order in ``proposals`` (a stable sort), and of equally overlapping ground-truth
    segments the first one in ``true_segments`` is matched. A tIoU counts when it is at least
    the threshold, compared in floating point as computed.

    References
    ----------
    .. [1] F. Caba Heilbron, V. Escorcia, B. Ghanem and J. C. Niebles, "ActivityNet: A
       Large-Scale Video Benchmark for Human Activity Understanding", CVPR 2015.
    .. [2] Q. Liu, Z. Wang, S. Rong, J. Li and Y. Zhang, "Revisiting Foreground and Background
       Separation in Weakly-supervised Temporal Action Localization: A Clustering-based
       Approach", ICCV 2023.

    Examples
    --------
    Two ground-truth actions; the first is found twice, the second found only roughly.

    >>> import pandas as pd
    >>> from ncestimators.metrics import localization_map
    >>> truth = pd.DataFrame(
    ...     {"video": ["a", "b"], "label": ["jump", "jump"], "start": [0.0, 5.0], "end": [4.0, 9.0]}
    ... )
    >>> proposals = pd.DataFrame(
    ...     {
    ...         "video": ["a", "a", "b"],
    ...         "label": ["jump", "jump", "jump"],
    ...         "start": [0.0, 0.5, 6.0],
    ...         "end": [4.0, 4.0, 12.0],
    ...         "score": [0.9, 0.8, 0.85],
    ...     }
    ... )
    >>> localization_map(truth, proposals, tiou_thresholds=[0.3, 0.5])
    tiou
    0.3     1.00
    0.5     0.50
    mean    0.75
    Name: mAP, dtype: float64

    By score the proposals are: ``a`` (tIoU 1), ``b`` (tIoU 3/7) and the duplicate in ``a``,
    always a false positive. At tIoU 0.3 the first two are true positives, at precision 1 and
    recall 1/2 and 1, so AP = 1. At 0.5 the proposal of ``b`` misses too: precision 1, 1/2, 1/3
    at recall 1/2, so AP = 1/2.
    """
    thresholds = _check_tiou_thresholds(tiou_thresholds)
    truth = _check_segment_frame(true_segments, "true_segments", _TRUTH_COLUMNS)
    found = _check_segment_frame(proposals, "proposals", _PROPOSAL_COLUMNS)
    if len(truth) == 0:
        raise ValueError("true_segments is empty; mAP needs at least one ground-truth segment.")
    n_truth = len(truth)
    videos = pd.factorize(pd.concat([truth["video"], found["video"]], ignore_index=True))[0]
    labels = pd.factorize(pd.concat([truth["label"], found["label"]], ignore_index=True))[0]
    truth_times = truth[["start", "end"]].to_numpy(dtype=np.float64)
    found_times = found[["start", "end"]].to_numpy(dtype=np.float64)
    scores = found["score"].to_numpy(dtype=np.float64)

    classes = np.unique(labels[:n_truth])
    precisions = np.empty((len(thresholds), len(classes)))
    for k, label in enumerate(classes):
        in_truth = labels[:n_truth] == label
        in_found = labels[n_truth:] == label
        precisions[:, k] = _average_precision(
            videos[:n_truth][in_truth],
            truth_times[in_truth],
            videos[n_truth:][in_found],
            found_times[in_found],
            scores[in_found],
            thresholds,
        )
    values = precisions.mean(axis=1)
    index = pd.Index([round(float(t), 10) for t in thresholds] + ["mean"], dtype=object)
    return pd.Series(np.append(values, values.mean()), index=index.rename("tiou"), name="mAP")


def segments_to_frame(segments):
    """Turn per-video ground-truth segments into the frame :func:`localization_map` takes.

    Parameters
    ----------
    segments : sequence of array-like, each of shape (n_segments_i, 3)
        One entry per video, aligned with the samples of ``X``; row ``(label, start, end)``
        per action instance. A video without actions has an empty entry (shape ``(0, 3)`` or
        an empty list).

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``video`` (the position of the video in ``segments``), ``label``, ``start``
        and ``end``, one row per segment, in order. Numeric labels that are all integral
        become integers; other labels are kept as given.

    Raises
    ------
    ValueError
        If ``segments`` is not a sequence of arrays of shape (n, 3), or if a start or end
        cannot be read as a number.

    Examples
    --------
    >>> from ncestimators.metrics import segments_to_frame
    >>> segments_to_frame([[[2, 0.0, 1.5]], [], [[0, 3.0, 4.0], [2, 6.0, 8.5]]])
       video  label  start  end
    0      0      2    0.0  1.5
    1      2      0    3.0  4.0
    2      2      2    6.0  8.5
    """
    if isinstance(segments, (str, bytes, Mapping, pd.DataFrame)) or not hasattr(
        segments, "__len__"
    ):
        raise ValueError(
            "segments must be a sequence with one (n_segments, 3) array of (label, start, end) "
            f"rows per video, got {type(segments).__name__}."
        )
    arrays = [_check_video_segments(video_segments, i) for i, video_segments in enumerate(segments)]
    counts = [len(array) for array in arrays]
    rows = [array for array in arrays if len(array)]
    table = np.concatenate(rows) if rows else np.empty((0, 3))
    label = table[:, 0]
    if label.dtype.kind == "f" and np.all(label == np.round(label)):
        label = label.astype(np.int64)
    elif label.dtype.kind in "biu":
        label = label.astype(np.int64)
    try:
        times = table[:, 1:].astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"segments must hold numeric start and end times in columns 1 and 2: {error}"
        ) from None
    return pd.DataFrame(
        {
            "video": np.repeat(np.arange(len(arrays), dtype=np.int64), counts),
            "label": label,
            "start": times[:, 0],
            "end": times[:, 1],
        }
    )


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


# --- semantic segmentation ---------------------------------------------------------------------


def iou_per_class(y_true, y_pred, n_classes, ignore_index=-1):
    """Intersection over union of every class, from dataset-level counts.

    Intersections and unions are summed over all positions of the whole dataset before
    dividing (the mmsegmentation convention), not averaged per image.

    Parameters
    ----------
    y_true : array-like of int, any shape
        True class of every position (pixel, point or sample), in ``[0, n_classes)`` or
        ``ignore_index``.

    y_pred : array-like of int, same shape as ``y_true``
        Predicted class of every position, in ``[0, n_classes)`` wherever ``y_true`` is not
        ``ignore_index`` (it is not read elsewhere).

    n_classes : int
        Number of classes.

    ignore_index : int or None, default=-1
        Label of positions to leave out, such as unlabelled pixels (255 in many segmentation
        datasets). It must not be a class. None leaves out nothing.

    Returns
    -------
    iou : ndarray of shape (n_classes,)
        :math:`\\mathrm{IoU}_c = TP_c / (TP_c + FP_c + FN_c)`; NaN for a class that appears
        neither in ``y_true`` nor in ``y_pred`` (at kept positions).

    Raises
    ------
    ValueError
        If the shapes differ, a label is not an integer or lies outside ``[0, n_classes)``
        (other than ``ignore_index`` in ``y_true``), ``ignore_index`` is a class, or no
        position is left to evaluate.

    See Also
    --------
    mean_iou : The mean over the classes.

    Notes
    -----
    The counts are the diagonal (:math:`TP_c`), row sums and column sums of the dataset's
    confusion matrix, computed with :func:`numpy.bincount` in
    :math:`O(n_{\\mathrm{positions}} + n_{\\mathrm{classes}})` without forming the matrix.

    Examples
    --------
    >>> from ncestimators.metrics import iou_per_class
    >>> y_true = [[0, 0, 1], [1, 2, -1]]
    >>> y_pred = [[0, 1, 1], [1, 0, 2]]
    >>> iou_per_class(y_true, y_pred, n_classes=4)
    array([0.33333333, 0.66666667, 0.        ,        nan])
    """
    n_classes = _check_positive_int(n_classes, "n_classes")
    y_true = _check_label_array(y_true, "y_true")
    y_pred = _check_label_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}."
        )
    if ignore_index is not None:
        if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
            raise ValueError(f"ignore_index must be an int or None, got {ignore_index!r}.")
        if 0 <= ignore_index < n_classes:
            raise ValueError(
                f"ignore_index={ignore_index} is one of the classes [0, {n_classes}); use a "
                "label outside that range (e.g. -1 or 255) for positions to ignore."
            )
        keep = y_true != ignore_index
        y_true, y_pred = y_true[keep], y_pred[keep]
    else:
        y_true, y_pred = y_true.ravel(), y_pred.ravel()
    if y_true.size == 0:
        raise ValueError(
            "No position is left to evaluate: y_true is empty or holds only ignore_index="
            f"{ignore_index}."
        )
    allowed = f"[0, {n_classes})" + ("" if ignore_index is None else f" or {ignore_index}")
    _check_label_range(y_true, n_classes, "y_true", allowed)
    _check_label_range(y_pred, n_classes, "y_pred", f"[0, {n_classes})")
    intersection = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    union = (
        np.bincount(y_true, minlength=n_classes)
        + np.bincount(y_pred, minlength=n_classes)
        - intersection
    )
    iou = np.full(n_classes, np.nan)
    present = union > 0
    iou[present] = intersection[present] / union[present]
    return iou


def mean_iou(y_true, y_pred, n_classes, ignore_index=-1):
    """Mean intersection over union (mIoU) over the classes that occur.

    The mean of :func:`iou_per_class` over the classes present in ``y_true`` or ``y_pred``;
    classes absent from both are skipped, as in mmsegmentation.

    Parameters
    ----------
    y_true : array-like of int, any shape
        True class of every position, in ``[0, n_classes)`` or ``ignore_index``.

    y_pred : array-like of int, same shape as ``y_true``
        Predicted class of every position.

    n_classes : int
        Number of classes.

    ignore_index : int or None, default=-1
        Label of positions to leave out; see :func:`iou_per_class`.

    Returns
    -------
    miou : float
        The mean IoU, in [0, 1].

    Raises
    ------
    ValueError
        In the cases listed in :func:`iou_per_class`.

    Examples
    --------
    >>> from ncestimators.metrics import mean_iou
    >>> round(mean_iou([[0, 0, 1], [1, 2, -1]], [[0, 1, 1], [1, 0, 2]], n_classes=4), 4)
    0.3333
    """
    return float(np.nanmean(iou_per_class(y_true, y_pred, n_classes, ignore_index)))


# --- long-tailed classification ----------------------------------------------------------------


def shot_accuracy(y_true, y_pred, train_counts, many=100, few=20):
    """Per-class accuracy averaged over many-, medium- and few-shot classes.

    The long-tailed recognition protocol: a test class is *many-shot* if it had more than
    ``many`` training samples, *few-shot* if it had fewer than ``few``, and *medium-shot*
    otherwise (the usual >100 / 20-100 / <20 split of ImageNet-LT and iNaturalist).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True test labels.

    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    train_counts : mapping or pandas.Series
        Number of training samples of every label, e.g. a dict ``{label: count}`` or
        ``pandas.Series(y_train).value_counts()``. It must cover every label of ``y_true``;
        extra labels are ignored.

    many : float, default=100
        Classes with more than ``many`` training samples are many-shot.

    few : float, default=20
        Classes with fewer than ``few`` training samples are few-shot. At most ``many``.

    Returns
    -------
    accuracy : pandas.Series
        Entries ``many``, ``medium``, ``few`` and ``overall``: the mean per-class accuracy over
        the test classes of each group, and over all test classes. A group without test
        classes is NaN. On a class-balanced test set ``overall`` is the plain accuracy.

    Raises
    ------
    ValueError
        If the inputs differ in length, are empty or contain missing labels, if a label of
        ``y_true`` has no training count, if a count is negative or missing, or if
        ``few > many``.

    Examples
    --------
    >>> from ncestimators.metrics import shot_accuracy
    >>> y_true = ["cat", "cat", "dog", "dog", "emu", "emu"]
    >>> y_pred = ["cat", "cat", "dog", "cat", "cat", "cat"]
    >>> shot_accuracy(y_true, y_pred, {"cat": 500, "dog": 50, "emu": 5})
    many       1.0
    medium     0.5
    few        0.0
    overall    0.5
    Name: accuracy, dtype: float64
    """
    y_true = _check_1d_labels(y_true, "y_true")
    y_pred = _check_1d_labels(y_pred, "y_pred")
    _check_same_length(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("shot_accuracy got empty inputs; pass at least one test sample.")
    many, few = _check_shot_thresholds(many, few)
    counts = _check_train_counts(train_counts)
    per_class = pd.Series(y_true == y_pred).groupby(y_true).mean()
    missing = per_class.index.difference(counts.index)
    if len(missing):
        raise ValueError(
            f"train_counts has no count for the test labels {_preview(missing)}; give the "
            "number of training samples of every test label (0 for labels never seen)."
        )
    class_counts = counts.reindex(per_class.index).to_numpy()
    is_many, is_few = class_counts > many, class_counts < few
    groups = {
        "many": is_many,
        "medium": ~is_many & ~is_few,
        "few": is_few,
        "overall": np.ones(len(per_class), dtype=bool),
    }
    accuracy = {name: per_class[mask].mean() for name, mask in groups.items()}
    return pd.Series(accuracy, dtype=np.float64, name="accuracy")


# --- validation helpers ------------------------------------------------------------------------


def _check_1d_floats(values, name):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers: {error}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}.")
    return array


def _check_1d_scores(values, name):
    array = _check_1d_floats(values, name)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity; drop or impute those samples first.")
    return array


def _check_1d_labels(values, name):
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}.")
    if pd.isna(array).any():
        raise ValueError(f"{name} contains missing labels (NaN or None); drop those samples.")
    return array


def _check_same_length(y_true, y_pred):
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}."
        )


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


def _check_tiou_thresholds(tiou_thresholds):
    thresholds = _check_1d_floats(np.atleast_1d(tiou_thresholds), "tiou_thresholds")
    if len(thresholds) == 0:
        raise ValueError("tiou_thresholds is empty; pass at least one threshold in (0, 1].")
    if not np.all((thresholds > 0) & (thresholds <= 1)):
        raise ValueError(f"tiou_thresholds must lie in (0, 1], got {thresholds.tolist()}.")
    rounded = np.round(thresholds, 10)
    if len(np.unique(rounded)) != len(rounded):
        raise ValueError(f"tiou_thresholds must be distinct, got {thresholds.tolist()}.")
    return thresholds


def _check_segment_frame(frame, name, columns):
    """Check a segments or proposals frame; return it with float64 times (and scores)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"{name} must be a pandas DataFrame with columns {list(columns)}, got "
            f"{type(frame).__name__}."
        )
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the columns {missing}; it needs {list(columns)}, "
            f"got {list(frame.columns)}."
        )
    frame = frame[list(columns)]
    with_nan = [column for column in columns if frame[column].isna().any()]
    if with_nan:
        raise ValueError(f"{name} has NaN (missing values) in the columns {with_nan}.")
    numeric = {}
    for column in columns[2:]:
        try:
            numeric[column] = frame[column].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Column {column!r} of {name} must be numeric, got dtype {frame[column].dtype}."
            ) from None
    for column in ("start", "end"):
        if not np.isfinite(numeric[column]).all():
            raise ValueError(f"Column {column!r} of {name} contains infinite times.")
    backwards = np.flatnonzero(numeric["end"] < numeric["start"])
    if len(backwards):
        raise ValueError(
            f"{name} has segments that end before they start (end < start) in the rows at "
            f"positions {_preview(backwards)}; swap or drop them."
        )
    return frame.assign(**numeric)


def _check_video_segments(video_segments, position):
    array = np.asarray(video_segments)
    if array.size == 0:
        return np.empty((0, 3), dtype=array.dtype if array.dtype != object else np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(
            f"segments[{position}] must have shape (n_segments, 3), rows (label, start, end), "
            f"got shape {array.shape}."
        )
    return array


def _average_precision(truth_videos, truth_times, found_videos, found_times, scores, thresholds):
    """Interpolated AP of one class at every threshold; returns an array (n_thresholds,)."""
    n_truth, n_found = len(truth_videos), len(found_videos)
    if n_found == 0:
        return np.zeros(len(thresholds))
    order = np.argsort(-scores, kind="stable")
    found_videos, found_times = found_videos[order], found_times[order]
    true_positive = np.zeros((len(thresholds), n_found), dtype=bool)
    truth_by_video = dict(_groups(truth_videos))
    for video, found_rows in _groups(found_videos):
        truth_rows = truth_by_video.get(video)
        if truth_rows is None:
            continue
        tiou = _tiou_matrix(found_times[found_rows], truth_times[truth_rows])
        true_positive[:, found_rows] = _greedy_match(tiou, thresholds)
    precision = np.cumsum(true_positive, axis=1) / np.arange(1, n_found + 1)
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    return np.where(true_positive, envelope, 0).sum(axis=1) / n_truth


def _groups(codes):
    """(code, positions) for every distinct code; positions in increasing order."""
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.diff(codes[order])) + 1
    return zip(codes[order[np.r_[0, starts]]], np.split(order, starts), strict=True)


def _tiou_matrix(found, truth):
    """Temporal IoU of every (start, end) row of ``found`` with every row of ``truth``."""
    intersection = np.clip(
        np.minimum(found[:, None, 1], truth[None, :, 1])
        - np.maximum(found[:, None, 0], truth[None, :, 0]),
        0,
        None,
    )
    union = (found[:, 1] - found[:, 0])[:, None] + (truth[:, 1] - truth[:, 0]) - intersection
    return np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)


def _greedy_match(tiou, thresholds):
    """True positives of proposals (rows of ``tiou``, by decreasing score) at each threshold."""
    n_thresholds = len(thresholds)
    true_positive = np.zeros((n_thresholds, tiou.shape[0]), dtype=bool)
    matched = np.zeros((n_thresholds, tiou.shape[1]), dtype=bool)
    every = np.arange(n_thresholds)
    for i in np.flatnonzero(tiou.max(axis=1) >= thresholds.min()):
        available = np.where(matched, -1.0, tiou[i])
        best = available.argmax(axis=1)
        hit = available[every, best] >= thresholds
        true_positive[hit, i] = True
        matched[every[hit], best[hit]] = True
    return true_positive


def _check_positive_int(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def _check_label_array(labels, name):
    array = np.asarray(labels)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or np.any(array != np.round(array)):
            raise ValueError(f"{name} must hold integer class labels, got non-integral values.")
        return array.astype(np.int64)
    if array.dtype.kind == "b" or array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class labels, got dtype {array.dtype}.")
    return array.astype(np.int64, copy=False)


def _check_label_range(labels, n_classes, name, allowed):
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise ValueError(
            f"{name} has labels outside {allowed}: {_preview(np.unique(labels[bad]))}; "
            "check n_classes and ignore_index."
        )


def _check_shot_thresholds(many, few):
    for name, value in (("many", many), ("few", few)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or np.isnan(value):
            raise ValueError(f"{name} must be a number of training samples, got {value!r}.")
    if few > many:
        raise ValueError(
            f"few={few} exceeds many={many}; few-shot classes have fewer than few and many-shot "
            "classes more than many training samples, so few must not exceed many."
        )
    return many, few


def _check_train_counts(train_counts):
    if isinstance(train_counts, pd.Series):
        counts = train_counts
    elif isinstance(train_counts, Mapping):
        counts = pd.Series(dict(train_counts), dtype=object)
    else:
        raise ValueError(
            "train_counts must map each label to its number of training samples (a dict or a "
            "pandas.Series such as pandas.Series(y_train).value_counts()), got "
            f"{type(train_counts).__name__}."
        )
    try:
        values = counts.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("train_counts must hold numbers of training samples.") from None
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError("train_counts must hold non-negative counts, without NaN.")
    return pd.Series(values, index=counts.index)


def _preview(values, limit=5):
    """The first ``limit`` values as a list, with an ellipsis if there are more."""
    values = list(values)
    shown = [value.item() if isinstance(value, np.generic) else value for value in values[:limit]]
    return f"{shown}" + (f" (and {len(values) - limit} more)" if len(values) > limit else "")
