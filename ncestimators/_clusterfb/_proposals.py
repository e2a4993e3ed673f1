"""Action proposals from snippet actionness: thresholds, outer-inner contrast, soft-NMS.

The test-time recipe shared by the weakly-supervised localisation methods CASE builds on
(BaS-Net, ASL, CoLA): a class's actionness is upsampled, cut at several thresholds, every run
of consecutive snippets above a threshold becomes a proposal scored by its outer-inner contrast
[1]_, and overlapping proposals are decayed by Gaussian soft-NMS [2]_.

References
----------
.. [1] Z. Shou, H. Gao, L. Zhang, K. Miyazawa and S.-F. Chang, "AutoLoc: Weakly-supervised
   Temporal Action Localization in Untrimmed Videos", ECCV 2018.
.. [2] N. Bodla, B. Singh, R. Chellappa and L. S. Davis, "Soft-NMS -- Improving Object
   Detection With One Line of Code", ICCV 2017.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = []

ACTIONNESS_THRESHOLDS = np.arange(1, 10) / 10
UPSAMPLING = 24
MIN_PROPOSAL_POINTS = 2  # runs of a single upsampled point are interpolation artefacts
OUTER_RATIO = 0.25
# The outer band measures how the actionness falls off at the boundary, which takes one snippet;
# a band growing with the proposal reaches neighbouring actions and ranks long actions below
# their own most confident parts.
MAX_OUTER_SNIPPETS = 1
VIDEO_SCORE_WEIGHT = 0.15
NMS_IOU_THRESHOLD = 0.4
NMS_SIGMA = 0.35


def action_proposals(actionness, video_score):
    """Scored proposals of one class in one video, in snippet units, after soft-NMS.

    A proposal is a stretch of snippets whose actionness stands above its surroundings; its
    score is the outer-inner contrast (mean actionness inside minus the mean over a band just
    outside each end, the band ``OUTER_RATIO`` of the proposal long but at most
    ``MAX_OUTER_SNIPPETS``) plus ``VIDEO_SCORE_WEIGHT`` times the class's video score.

    Candidates are the runs of the actionness above each of ``ACTIONNESS_THRESHOLDS``, after
    linear upsampling to ``UPSAMPLING`` points per snippet, as in the official code, and the
    same runs of its centred moving averages over 3, 7, 15, ... snippets (up to half the
    video): snippet scores dip at single snippets inside long actions, and a threshold cuts a
    long action at every dip, so without the coarser scales no candidate covers it whole.
    Scores are always taken on the unsmoothed actionness. Gaussian soft-NMS then decays
    candidates that overlap a better one.

    Parameters
    ----------
    actionness : ndarray of shape (n_snippets,)
        The class's actionness of every snippet, in [0, 1].

    video_score : float
        The class's video-level score, added with weight ``VIDEO_SCORE_WEIGHT``.

    Returns
    -------
    proposals : ndarray of shape (n_proposals, 3)
        Rows ``(start, end, score)``, snippet t covering ``[t, t + 1)``, by decreasing score.
    """
    actionness = np.asarray(actionness, dtype=np.float64)
    smoothed = [
        _upsample(_moving_average(actionness, width), UPSAMPLING)
        for width in _smoothing_widths(len(actionness))
    ]
    runs = [_runs(curve > threshold) for curve in smoothed for threshold in ACTIONNESS_THRESHOLDS]
    starts = np.concatenate([start for start, _ in runs])
    ends = np.concatenate([end for _, end in runs])
    long_enough = ends - starts >= MIN_PROPOSAL_POINTS
    candidates = np.unique(np.column_stack([starts[long_enough], ends[long_enough]]), axis=0)
    starts, ends = candidates[:, 0], candidates[:, 1]
    scores = _outer_inner_contrast(smoothed[0], starts, ends) + VIDEO_SCORE_WEIGHT * video_score
    proposals = np.column_stack([starts / UPSAMPLING, ends / UPSAMPLING, scores])
    return soft_nms(proposals, NMS_IOU_THRESHOLD, NMS_SIGMA)


def _smoothing_widths(n_snippets):
    """Odd widths 1, 3, 7, 15, ... up to half the video (1 for very short videos)."""
    widths = [1]
    while 2 * widths[-1] + 1 <= n_snippets // 2:
        widths.append(2 * widths[-1] + 1)
    return widths


def _moving_average(values, width):
    """Centred moving average over ``width`` (odd) steps, over the part inside the sequence."""
    if width == 1:
        return values  # exactly, so that scores are taken on the actionness as it is
    half = width // 2
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    positions = np.arange(len(values))
    low = np.maximum(positions - half, 0)
    high = np.minimum(positions + half + 1, len(values))
    return (cumulative[high] - cumulative[low]) / (high - low)


def _upsample(signal, factor):
    """Linear interpolation between snippet centres onto ``factor`` points per snippet."""
    positions = (np.arange(len(signal) * factor) + 0.5) / factor - 0.5
    return np.interp(positions, np.arange(len(signal)), signal)


def _runs(mask):
    """``(starts, ends)`` of the runs of True in ``mask``, ends exclusive."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _outer_inner_contrast(signal, starts, ends):
    """Mean inside each run minus the mean of the bands around it (see ``action_proposals``)."""
    cumulative = np.concatenate([[0.0], np.cumsum(signal)])
    lengths = ends - starts
    inner = (cumulative[ends] - cumulative[starts]) / lengths
    pad = np.clip((OUTER_RATIO * lengths).astype(np.intp), 1, MAX_OUTER_SNIPPETS * UPSAMPLING)
    before, after = np.maximum(starts - pad, 0), np.minimum(ends + pad, len(signal))
    outer_sum = cumulative[starts] - cumulative[before] + cumulative[after] - cumulative[ends]
    outer_count = starts - before + after - ends
    outer = np.divide(outer_sum, outer_count, out=np.zeros_like(inner), where=outer_count > 0)
    return inner - outer


def soft_nms(proposals, iou_threshold, sigma):
    """Gaussian soft-NMS of ``(start, end, score)`` rows; every proposal is kept.

    Repeatedly takes the highest-scoring remaining proposal and multiplies the score of each
    remaining one that overlaps it by more than ``iou_threshold`` in temporal IoU by
    ``exp(-iou**2 / sigma)`` (negative scores are left as they are). Returns the rows in the
    order they were taken, each with its decayed score, so by decreasing score.
    """
    proposals = np.array(proposals, dtype=np.float64).reshape(-1, 3)
    scores = proposals[:, 2].copy()
    taken = np.zeros(len(proposals), dtype=bool)
    order = []
    for _ in range(len(proposals)):
        best = int(np.argmax(np.where(taken, -np.inf, scores)))
        taken[best] = True
        order.append(best)
        iou = temporal_iou(proposals[best, :2], proposals[:, :2])
        decayed = ~taken & (iou > iou_threshold)
        # Decay only lowers a score: scaling a negative contrast would raise it.
        scores[decayed] = np.minimum(
            scores[decayed], scores[decayed] * np.exp(-(iou[decayed] ** 2) / sigma)
        )
    return np.column_stack([proposals[order, :2], scores[order]])


def temporal_iou(segment, segments):
    """Temporal IoU of one ``(start, end)`` segment with each row of ``segments``."""
    intersection = np.clip(
        np.minimum(segment[1], segments[:, 1]) - np.maximum(segment[0], segments[:, 0]), 0, None
    )
    union = (segment[1] - segment[0]) + (segments[:, 1] - segments[:, 0]) - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def window_proposals(actionness, video_score, length):
    """Fixed-length sliding windows, the baseline that ``action_proposals`` should beat.

    Windows of ``length`` snippets start every ``length / 2`` snippets, the last one ending
    with the video (a video shorter than ``length`` is one window). Each is scored like a
    proposal but without the contrast: its mean actionness plus ``VIDEO_SCORE_WEIGHT`` times
    the class's video score. Returns rows as ``action_proposals`` does.
    """
    signal = _upsample(np.asarray(actionness, dtype=np.float64), UPSAMPLING)
    width = int(np.clip(round(length * UPSAMPLING), 1, len(signal)))
    last = len(signal) - width
    starts = np.unique(np.append(np.arange(0, last, width / 2).round().astype(np.intp), last))
    ends = starts + width
    cumulative = np.concatenate([[0.0], np.cumsum(signal)])
    scores = (cumulative[ends] - cumulative[starts]) / width + VIDEO_SCORE_WEIGHT * video_score
    order = np.argsort(-scores, kind="stable")
    return np.column_stack([starts / UPSAMPLING, ends / UPSAMPLING, scores])[order]
