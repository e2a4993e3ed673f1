"""Temporal action localization metrics: ActivityNet-protocol mAP and segment frames."""

# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._validation import _check_tiou_thresholds, _preview

__all__ = ["localization_map", "segments_to_frame"]

# The tIoU thresholds of THUMOS14 weakly-supervised localization: 0.1, 0.2, ..., 0.7.
TIOU_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)

_TRUTH_COLUMNS = ("video", "label", "start", "end")
_PROPOSAL_COLUMNS = ("video", "label", "start", "end", "score")


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
