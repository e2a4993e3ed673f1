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
VIDEO_SCORE_WEIGHT = 0.15
NMS_IOU_THRESHOLD = 0.4
NMS_SIGMA = 0.35


def action_proposals(actionness, video_score):
    """Scored proposals of one class in one video, in snippet units, after soft-NMS.

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
    signal = _upsample(np.asarray(actionness, dtype=np.float64), UPSAMPLING)
    runs = [_runs(signal > threshold) for threshold in ACTIONNESS_THRESHOLDS]
    starts = np.concatenate([start for start, _ in runs])
    ends = np.concatenate([end for _, end in runs])
    long_enough = ends - starts >= MIN_PROPOSAL_POINTS
    starts, ends = starts[long_enough], ends[long_enough]
    scores = _outer_inner_contrast(signal, starts, ends) + VIDEO_SCORE_WEIGHT * video_score
    proposals = np.column_stack([starts / UPSAMPLING, ends / UPSAMPLING, scores])
    return soft_nms(proposals, NMS_IOU_THRESHOLD, NMS_SIGMA)


def _upsample(signal, factor):
    """Linear interpolation between snippet centres onto ``factor`` points per snippet."""
    positions = (np.arange(len(signal) * factor) + 0.5) / factor - 0.5
    return np.interp(positions, np.arange(len(signal)), signal)


def _runs(mask):
    """``(starts, ends)`` of the runs of True in ``mask``, ends exclusive."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _outer_inner_contrast(signal, starts, ends):
    """Mean inside each run minus the mean of the bands of ``OUTER_RATIO`` length around it."""
    cumulative = np.concatenate([[0.0], np.cumsum(signal)])
    lengths = ends - starts
    inner = (cumulative[ends] - cumulative[starts]) / lengths
    pad = np.maximum((OUTER_RATIO * lengths).astype(np.intp), 1)
    before, after = np.maximum(starts - pad, 0), np.minimum(ends + pad, len(signal))
    outer_sum = cumulative[starts] - cumulative[before] + cumulative[after] - cumulative[ends]
    outer_count = starts - before + after - ends
    outer = np.divide(outer_sum, outer_count, out=np.zeros_like(inner), where=outer_count > 0)
    return inner - outer


def soft_nms(proposals, iou_threshold, sigma):
    """Gaussian soft-NMS of ``(start, end, score)`` rows; every proposal is kept.

    Repeatedly takes the highest-scoring remaining proposal and multiplies the score of each
    remaining one that overlaps it by more than ``iou_threshold`` in temporal IoU by
    ``exp(-iou**2 / sigma)``. Returns the rows in the order they were taken, each with its
    decayed score.
    """
    remaining = np.array(proposals, dtype=np.float64).reshape(-1, 3)
    kept = []
    while len(remaining):
        best = int(np.argmax(remaining[:, 2]))
        top, remaining = remaining[best], np.delete(remaining, best, axis=0)
        kept.append(top)
        iou = temporal_iou(top[:2], remaining[:, :2])
        remaining[:, 2] *= np.where(iou > iou_threshold, np.exp(-(iou**2) / sigma), 1.0)
    return np.array(kept).reshape(-1, 3)


def temporal_iou(segment, segments):
    """Temporal IoU of one ``(start, end)`` segment with each row of ``segments``."""
    intersection = np.clip(
        np.minimum(segment[1], segments[:, 1]) - np.maximum(segment[0], segments[:, 0]), 0, None
    )
    union = (segment[1] - segment[0]) + (segments[:, 1] - segments[:, 0]) - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
