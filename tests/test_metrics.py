"""Tests for ncestimators.metrics: AQA, localization, segmentation and long-tail metrics."""

# SPDX-License-Identifier: BSD-3-Clause

import math
import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from ncestimators.metrics import (
    fisher_z_mean,
    frequency_groups,
    iou_per_class,
    localization_map,
    make_localization_scorer,
    mean_iou,
    relative_l2,
    segments_to_frame,
    shot_accuracy,
    srcc,
)

THUMOS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


def frame(rows, columns=("video", "label", "start", "end")):
    return pd.DataFrame(rows, columns=list(columns))


def proposals_frame(rows):
    return frame(rows, ("video", "label", "start", "end", "score"))


# --- srcc --------------------------------------------------------------------------------------


def test_srcc_by_hand():
    # ranks 2 3 1 4 against 2 4 1 3: sum of squared rank differences 2, 1 - 6 * 2 / (4 * 15).
    assert srcc([70.1, 82.3, 65.0, 90.4], [0.2, 0.5, 0.1, 0.4]) == pytest.approx(0.8)
    assert srcc([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    # Ties get average ranks: (1.5, 1.5, 3) against (1, 2, 3) is Pearson's r of those ranks.
    assert srcc([5, 5, 9], [1, 2, 3]) == pytest.approx(np.sqrt(3) / 2)
    assert isinstance(srcc([1, 2, 3], [1, 3, 2]), float)


@settings(deadline=None, max_examples=50)
@given(
    arrays(np.float64, 12, elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0, 3.0, 7.5])),
    arrays(np.float64, 12, elements=st.floats(-100, 100)),
)
def test_srcc_matches_scipy(y_true, y_pred):
    assume(np.ptp(y_true) > 0 and np.ptp(y_pred) > 0)
    assert srcc(y_true, y_pred) == pytest.approx(spearmanr(y_true, y_pred).statistic, abs=1e-12)


def test_srcc_accepts_column_vectors_and_series():
    y = pd.Series([3.0, 1.0, 2.0])
    assert srcc(y, np.array([[3.0], [1.0], [2.0]])) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        ([1, 2, 3], [1, 2], "same length, got 3 and 2"),
        ([1], [2], "at least 2 samples"),
        ([1, np.nan, 3], [1, 2, 3], "y_true contains NaN"),
        ([1, 2, 3], [1, np.inf, 3], "y_pred contains NaN or infinity"),
        ([4, 4, 4], [1, 2, 3], "y_true is constant.*undefined"),
        ([1, 2, 3], [0, 0, 0], "y_pred is constant.*undefined"),
        (np.ones((3, 2)), [1, 2, 3], "one-dimensional"),
        (["a", "b"], [1, 2], "must hold numbers"),
    ],
)
def test_srcc_errors(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        srcc(y_true, y_pred)


# --- fisher_z_mean -----------------------------------------------------------------------------


def test_fisher_z_mean_known_values():
    # artanh(0.9) = ln(19) / 2 and artanh(0.5) = ln(3) / 2, so the mean z is ln(57) / 4.
    assert fisher_z_mean([0.9, 0.5]) == pytest.approx(math.tanh(math.log(57) / 4))
    assert fisher_z_mean([0.9, 0.5]) == pytest.approx(0.76608, abs=1e-5)
    assert fisher_z_mean([0.42]) == pytest.approx(0.42)
    assert fisher_z_mean([0.3, -0.3, 0.6, -0.6]) == pytest.approx(0.0, abs=1e-15)
    assert fisher_z_mean([0.7, 0.7, 0.7]) == pytest.approx(0.7)
    # Larger than the arithmetic mean for positive correlations of different size.
    assert fisher_z_mean([0.95, 0.2]) > (0.95 + 0.2) / 2


def test_fisher_z_mean_perfect_correlations_are_clipped():
    assert fisher_z_mean([1.0, -1.0]) == pytest.approx(0.0, abs=1e-12)
    assert fisher_z_mean([1.0]) == pytest.approx(1.0, abs=1e-11)
    pulled = fisher_z_mean([1.0, 0.5])
    assert np.isfinite(pulled) and 0.999 < pulled < 1.0


def test_fisher_z_mean_takes_mappings():
    per_action = {"ball": 0.9, "clubs": 0.5}
    assert fisher_z_mean(per_action) == pytest.approx(fisher_z_mean([0.9, 0.5]))
    assert fisher_z_mean(pd.Series(per_action)) == pytest.approx(fisher_z_mean([0.9, 0.5]))


@pytest.mark.parametrize(
    "correlations, match",
    [
        ([], "empty"),
        ([0.5, np.nan], "NaN"),
        ([0.5, 1.2], r"must lie in \[-1, 1\], got \[1.2\]"),
        ([-3.0], r"\[-1, 1\]"),
        ([[0.5, 0.2]], "one-dimensional"),
    ],
)
def test_fisher_z_mean_errors(correlations, match):
    with pytest.raises(ValueError, match=match):
        fisher_z_mean(correlations)


# --- relative_l2 -------------------------------------------------------------------------------


def test_relative_l2_by_hand():
    # Errors 2 and -3 over a range of 20: 100 * (0.1 ** 2 + 0.15 ** 2) / 2 = 1.625.
    assert relative_l2([10.0, 20.0], [12.0, 17.0], (0, 20)) == pytest.approx(1.625)
    assert relative_l2([10.0, 20.0], [12.0, 17.0], score_range=(10, 30)) == pytest.approx(1.625)
    assert relative_l2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], (0, 5)) == 0.0


def test_relative_l2_default_range_is_that_of_y_true():
    # Range 4 - 0 = 4; errors 1, 0, -2: 100 * (1 + 0 + 4) / 16 / 3.
    y_true, y_pred = [0.0, 2.0, 4.0], [1.0, 2.0, 2.0]
    assert relative_l2(y_true, y_pred) == pytest.approx(100 * 5 / 16 / 3)
    assert relative_l2(y_true, y_pred) == relative_l2(y_true, y_pred, (0, 4))


@pytest.mark.parametrize(
    "y_true, y_pred, score_range, match",
    [
        ([1.0, 2.0], [1.0], (0, 1), "same length"),
        ([], [], (0, 1), "empty"),
        ([1.0, np.nan], [1.0, 2.0], (0, 1), "y_true contains NaN"),
        ([1.0, 2.0], [1.0, 2.0], (3, 3), "s_min < s_max"),
        ([1.0, 2.0], [1.0, 2.0], (5, 1), "s_min < s_max"),
        ([1.0, 2.0], [1.0, 2.0], (0, np.inf), "finite"),
        ([1.0, 2.0], [1.0, 2.0], 10, "pair"),
        ([1.0, 2.0], [1.0, 2.0], (0, 1, 2), "pair"),
        ([3.0, 3.0], [1.0, 2.0], None, "y_true is constant.*score_range"),
    ],
)
def test_relative_l2_errors(y_true, y_pred, score_range, match):
    with pytest.raises(ValueError, match=match):
        relative_l2(y_true, y_pred, score_range)


# --- localization_map --------------------------------------------------------------------------

# One class, two videos, three actions and four proposals, one of them a duplicate.
HAND_TRUTH = frame(
    [
        ("v1", "run", 0.0, 10.0),  # g1
        ("v1", "run", 20.0, 30.0),  # g2
        ("v2", "run", 5.0, 15.0),  # g3
    ]
)
HAND_PROPOSALS = proposals_frame(
    [
        # Listed out of score order on purpose.
        ("v2", "run", 5.0, 12.0, 0.7),  # p3: tIoU(g3) = 7 / 10 = 0.7
        ("v1", "run", 0.0, 10.0, 0.9),  # p1: tIoU(g1) = 1
        ("v1", "run", 22.0, 34.0, 0.6),  # p4: tIoU(g2) = 8 / (10 + 12 - 8) = 4 / 7 ~ 0.571
        ("v1", "run", 1.0, 10.0, 0.8),  # p2: tIoU(g1) = 0.9, but g1 is taken by p1: duplicate
    ]
)
# By score: p1, p2, p3, p4.
# tIoU 0.5: TP FP TP TP. Precision 1, 1/2, 2/3, 3/4; recall 1/3, 1/3, 2/3, 1.
#   Envelope (max of the precisions from here on): 1, 3/4, 3/4, 3/4.
#   AP = sum over the recall steps (p1, p3, p4) of 1/3 * envelope = (1 + 3/4 + 3/4) / 3 = 5/6.
# tIoU 0.7: p3 is a TP (7.0 / 10.0 is the double 0.7, and a tIoU equal to the threshold counts):
#   TP FP TP FP. Precision 1, 1/2, 2/3, 1/2; envelope 1, 2/3, 2/3, 1/2.
#   AP = (1 + 2/3) / 3 = 5/9.
# tIoU 0.75: only p1: TP FP FP FP. AP = 1/3 * 1 = 1/3.
HAND_AP = {0.5: 5 / 6, 0.7: 5 / 9, 0.75: 1 / 3}


def test_localization_map_activitynet_example_by_hand():
    result = localization_map(HAND_TRUTH, HAND_PROPOSALS, tiou_thresholds=[0.5, 0.7, 0.75])
    assert list(result.index) == [0.5, 0.7, 0.75, "mean"]
    assert result.index.name == "tiou"
    for threshold, ap in HAND_AP.items():
        assert result[threshold] == pytest.approx(ap)
    assert result["mean"] == pytest.approx(np.mean(list(HAND_AP.values())))


def test_localization_map_class_without_proposals_counts_as_zero():
    # A second class with one action and no proposal: AP 0, so the mAP halves.
    truth = pd.concat([HAND_TRUTH, frame([("v2", "jump", 0.0, 3.0)])], ignore_index=True)
    # A proposal of a class without ground truth is ignored.
    proposals = pd.concat(
        [HAND_PROPOSALS, proposals_frame([("v2", "swim", 0.0, 3.0, 1.0)])], ignore_index=True
    )
    result = localization_map(truth, proposals, tiou_thresholds=0.5)
    assert list(result.index) == [0.5, "mean"]
    assert result[0.5] == pytest.approx(5 / 12)
    assert result["mean"] == pytest.approx(5 / 12)


def test_localization_map_proposals_in_videos_without_truth_are_false_positives():
    truth = frame([("a", 0, 0.0, 2.0)])
    perfect = proposals_frame([("a", 0, 0.0, 2.0, 0.5)])
    assert localization_map(truth, perfect, 0.5)["mean"] == 1.0
    # A more confident proposal in video b, which has no action: precision 0, then 1/2.
    extra = pd.concat([perfect, proposals_frame([("b", 0, 0.0, 2.0, 0.9)])], ignore_index=True)
    assert localization_map(truth, extra, 0.5)["mean"] == pytest.approx(0.5)


def test_localization_map_matches_the_best_overlapping_action():
    # p1 overlaps a with tIoU 3 / 19 and b with 11 / 13; p2 overlaps a with 9 / 10, b with 1 / 20.
    truth = frame([(0, 1, 0.0, 10.0), (0, 1, 8.0, 20.0)])
    proposals = proposals_frame([(0, 1, 7.0, 19.0, 0.9), (0, 1, 0.0, 9.0, 0.8)])
    # Greedy by tIoU: p1 takes b and p2 takes a. Matching p1 to the first action above the
    # threshold (a) would leave p2 a false positive and give AP 1/2.
    assert localization_map(truth, proposals, 0.1)["mean"] == 1.0


def test_localization_map_ties_are_broken_by_input_order():
    truth = frame([(0, 0, 0.0, 4.0)])
    hit, miss = (0, 0, 0.0, 4.0, 0.5), (0, 0, 10.0, 14.0, 0.5)
    # Equal scores keep the order of the frame: TP then FP gives AP 1, FP then TP gives 1/2.
    assert localization_map(truth, proposals_frame([hit, miss]), 0.5)["mean"] == 1.0
    assert localization_map(truth, proposals_frame([miss, hit]), 0.5)["mean"] == 0.5

    # A proposal overlapping two actions equally (tIoU 1/3 each) takes the one listed first.
    a, b = (0, 0, 0.0, 4.0), (0, 0, 4.0, 8.0)
    proposals = proposals_frame([(0, 0, 2.0, 6.0, 0.9), (0, 0, 0.0, 4.0, 0.8)])
    # It takes a, so the exact match of a comes second and is a duplicate: AP (1 + 0) / 2.
    assert localization_map(frame([a, b]), proposals, 0.3)["mean"] == 0.5
    # It takes b, and the exact match of a is a true positive: AP 1.
    assert localization_map(frame([b, a]), proposals, 0.3)["mean"] == 1.0


def test_localization_map_default_thresholds_and_empty_proposals():
    result = localization_map(HAND_TRUTH, HAND_PROPOSALS.iloc[:0])
    assert list(result.index) == THUMOS + ["mean"]
    assert result[0.3] == 0.0 and result["mean"] == 0.0
    assert result.name == "mAP"
    # Rounded labels: np.linspace(0.1, 0.7, 7)[2] is 0.30000000000000004.
    same = localization_map(HAND_TRUTH, HAND_PROPOSALS, np.linspace(0.1, 0.7, 7))
    assert list(same.index) == THUMOS + ["mean"]
    # Up to tIoU 4/7 all four proposals but p2 are true positives: AP 5/6 (see HAND_AP).
    np.testing.assert_allclose(same.iloc[:5], 5 / 6)


def tiou(a, b):
    intersection = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - intersection
    return intersection / union if union > 0 else 0.0


def reference_map(truth_rows, proposal_rows, thresholds):
    """ActivityNet's evaluation written out with Python loops, one threshold at a time.

    Rows are ``(video, label, start, end)`` tuples, with a trailing ``score`` for proposals.
    """
    maps = []
    for threshold in thresholds:
        average_precisions = []
        for label in {row[1] for row in truth_rows}:
            gt = [(row[0], row[2], row[3]) for row in truth_rows if row[1] == label]
            pr = [(row[0], row[2], row[3], row[4]) for row in proposal_rows if row[1] == label]
            # Python's sort is stable: ties keep their order in the frame.
            pr = sorted(pr, key=lambda row: -row[3])
            locked = [False] * len(gt)
            flags = []
            for video, start, end, _ in pr:
                same_video = [j for j in range(len(gt)) if gt[j][0] == video]
                overlaps = {j: tiou((start, end), gt[j][1:]) for j in same_video}
                hit = False
                for j in sorted(same_video, key=lambda j: -overlaps[j]):
                    if overlaps[j] < threshold:
                        break
                    if locked[j]:
                        continue
                    locked[j] = hit = True
                    break
                flags.append(hit)
            n_hits, precision, recall = 0, [], []
            for k, flag in enumerate(flags, start=1):
                n_hits += flag
                precision.append(n_hits / k)
                recall.append(n_hits / len(gt))
            mprec, mrec = [0.0] + precision + [0.0], [0.0] + recall + [1.0]
            for i in range(len(mprec) - 2, -1, -1):
                mprec[i] = max(mprec[i], mprec[i + 1])
            average_precisions.append(
                sum(
                    (mrec[i] - mrec[i - 1]) * mprec[i]
                    for i in range(1, len(mrec))
                    if mrec[i] != mrec[i - 1]
                )
            )
        maps.append(np.mean(average_precisions))
    return np.array(maps)


@st.composite
def segment_rows(draw, n_min, n_max, scored):
    n = draw(st.integers(n_min, n_max))
    rows = []
    for _ in range(n):
        start = draw(st.integers(0, 12))
        row = (draw(st.sampled_from("xyz")), draw(st.integers(0, 2)), start)
        row += (start + draw(st.integers(0, 6)),)
        if scored:
            row += (draw(st.sampled_from([0.1, 0.2, 0.3, 0.4])),)
        rows.append(row)
    return rows


@settings(deadline=None, max_examples=60)
@given(segment_rows(1, 8, scored=False), segment_rows(0, 14, scored=True))
def test_localization_map_matches_reference_loops(truth_rows, proposal_rows):
    truth = frame([r[:2] + (float(r[2]), float(r[3])) for r in truth_rows])
    proposals = proposals_frame([r[:2] + (float(r[2]), float(r[3]), r[4]) for r in proposal_rows])
    result = localization_map(truth, proposals, THUMOS)
    expected = reference_map(truth_rows, proposal_rows, THUMOS)
    np.testing.assert_allclose(result.iloc[:-1].to_numpy(dtype=float), expected, atol=1e-12)
    assert result["mean"] == pytest.approx(expected.mean())


def test_localization_map_is_fast_on_thousands_of_proposals():
    rng = np.random.default_rng(0)
    n_truth, n_found = 2000, 20000
    truth = pd.DataFrame(
        {"video": rng.integers(0, 200, n_truth), "label": rng.integers(0, 20, n_truth)}
    )
    truth["start"] = rng.uniform(0, 100, n_truth)
    truth["end"] = truth["start"] + rng.uniform(1, 10, n_truth)
    found = truth.sample(n_found, replace=True, random_state=0).reset_index(drop=True)
    found["start"] += rng.normal(0, 1, n_found)
    found["end"] = np.maximum(found["end"] + rng.normal(0, 1, n_found), found["start"])
    found["score"] = rng.random(n_found)
    result = localization_map(truth, found)
    assert result.between(0, 1).all()
    assert result[0.1] > result[0.7] > 0


def test_localization_map_errors():
    good = HAND_PROPOSALS
    with pytest.raises(ValueError, match=r"proposals lacks the columns \['score'\]"):
        localization_map(HAND_TRUTH, good.drop(columns="score"))
    with pytest.raises(ValueError, match=r"true_segments lacks the columns \['label', 'end'\]"):
        localization_map(HAND_TRUTH.drop(columns=["label", "end"]), good)
    with pytest.raises(ValueError, match="pandas DataFrame"):
        localization_map(HAND_TRUTH.to_numpy(), good)
    with pytest.raises(ValueError, match=r"NaN .* columns \['start'\]"):
        localization_map(HAND_TRUTH, good.assign(start=[0.0, np.nan, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"true_segments has NaN .* \['video'\]"):
        localization_map(HAND_TRUTH.assign(video=["v1", None, "v2"]), good)
    with pytest.raises(ValueError, match=r"end before they start .* positions \[1\]"):
        localization_map(HAND_TRUTH.assign(end=[10.0, 19.0, 15.0]), good)
    with pytest.raises(ValueError, match="'score' of proposals must be numeric"):
        localization_map(HAND_TRUTH, good.assign(score=["a", "b", "c", "d"]))
    with pytest.raises(ValueError, match="infinite"):
        localization_map(HAND_TRUTH, good.assign(end=np.inf))
    with pytest.raises(ValueError, match="true_segments is empty"):
        localization_map(HAND_TRUTH.iloc[:0], good)
    for thresholds, match in [
        ([0.0, 0.5], r"\(0, 1\]"),
        ([1.5], r"\(0, 1\]"),
        ([], "empty"),
        ([0.5, 0.5], "distinct"),
        ([0.3, np.linspace(0.1, 0.7, 7)[2]], "distinct"),
    ]:
        with pytest.raises(ValueError, match=match):
            localization_map(HAND_TRUTH, good, thresholds)


# --- segments_to_frame -------------------------------------------------------------------------


def test_segments_to_frame():
    segments = [np.array([[2, 0.0, 1.5]]), np.empty((0, 3)), [[0, 3.0, 4.0], [2, 6.0, 8.5]], []]
    result = segments_to_frame(segments)
    assert list(result.columns) == ["video", "label", "start", "end"]
    assert result["video"].tolist() == [0, 2, 2]
    assert result["label"].tolist() == [2, 0, 2]
    assert result["label"].dtype == np.int64
    assert result["start"].tolist() == [0.0, 3.0, 6.0]
    assert result["end"].tolist() == [1.5, 4.0, 8.5]


def test_segments_to_frame_keeps_string_and_fractional_labels():
    named = segments_to_frame([np.array([["jump", "1.0", "2.5"]], dtype=object)])
    assert named["label"].tolist() == ["jump"] and named["end"].tolist() == [2.5]
    fractional = segments_to_frame([[[0.5, 1.0, 2.0]]])
    assert fractional["label"].tolist() == [0.5]
    assert len(segments_to_frame([[], []])) == 0


@pytest.mark.parametrize(
    "segments, match",
    [
        ([np.array([[1, 0.0]])], r"segments\[0\] must have shape \(n_segments, 3\)"),
        ([np.empty((0, 3)), np.array([1, 0.0, 2.0])], r"segments\[1\].*got shape \(3,\)"),
        ([[["a", "b", "c"]]], "numeric start and end"),
        (pd.DataFrame({"a": [1]}), "sequence"),
        (5, "sequence"),
    ],
)
def test_segments_to_frame_errors(segments, match):
    with pytest.raises(ValueError, match=match):
        segments_to_frame(segments)


# --- make_localization_scorer ------------------------------------------------------------------

# Eight videos, one action each; the first column of X says which video a sample is.
VIDEO_SEGMENTS = [np.array([[i % 2, 10.0 * i, 10.0 * i + 5.0]]) for i in range(8)]
X_VIDEOS = np.column_stack([np.arange(8.0), np.zeros(8)])
Y_VIDEOS = np.arange(8) % 2


class ShiftedOracle(BaseEstimator):
    """Proposes every true action of a video, shifted by ``shift``; X[:, 0] is the video."""

    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y=None, segments=None):
        self.n_fit_segments_ = None if segments is None else len(segments)
        return self

    def localize(self, X):
        rows = [
            (position, int(label), start + self.shift, end + self.shift, 1.0)
            for position, video in enumerate(np.asarray(X)[:, 0].astype(int))
            for label, start, end in VIDEO_SEGMENTS[video]
        ]
        return proposals_frame(rows)


def test_localization_scorer_called_directly():
    scorer = make_localization_scorer([0.5, 0.7])
    # Shift 2 of a 5-long action: tIoU 3/7 ~ 0.43, below both thresholds.
    assert scorer(ShiftedOracle(0.0), X_VIDEOS, Y_VIDEOS, segments=VIDEO_SEGMENTS) == 1.0
    assert scorer(ShiftedOracle(2.0), X_VIDEOS, Y_VIDEOS, segments=VIDEO_SEGMENTS) == 0.0
    # Shift 1: tIoU 4/6 = 2/3, a hit at 0.5 only.
    assert scorer(ShiftedOracle(1.0), X_VIDEOS, None, segments=VIDEO_SEGMENTS) == 0.5
    assert repr(scorer) == "make_localization_scorer(tiou_thresholds=(0.5, 0.7))"
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored(ShiftedOracle(1.0), X_VIDEOS, None, segments=VIDEO_SEGMENTS) == 0.5


def test_localization_scorer_errors():
    scorer = make_localization_scorer()
    with pytest.raises(ValueError, match="needs the ground-truth segments.*metadata routing"):
        scorer(ShiftedOracle(), X_VIDEOS, Y_VIDEOS)
    with pytest.raises(ValueError, match="one entry per sample of X: got 7 entries for 8"):
        scorer(ShiftedOracle(), X_VIDEOS, Y_VIDEOS, segments=VIDEO_SEGMENTS[:7])
    with pytest.raises(ValueError, match="distinct"):
        make_localization_scorer([0.5, 0.5])


# Shift 0: tIoU 1. Shift 1: tIoU 4/6, a hit up to 0.6 (6 of 7 thresholds). Shift 3: tIoU 2/8,
# a hit at 0.1 and 0.2 only (2 of 7). Every fold holds both classes, so these are the fold scores.
SHIFT_SCORES = {0.0: 1.0, 1.0: 6 / 7, 3.0: 2 / 7}


def test_localization_scorer_in_grid_search_with_metadata_routing():
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            ShiftedOracle().set_fit_request(segments=True),
            {"shift": [3.0, 1.0, 0.0]},
            scoring=make_localization_scorer(),
            cv=KFold(2),
            error_score="raise",
        )
        search.fit(X_VIDEOS, Y_VIDEOS, segments=VIDEO_SEGMENTS)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], [2 / 7, 6 / 7, 1.0])
    np.testing.assert_allclose(search.cv_results_["split0_test_score"], [2 / 7, 6 / 7, 1.0])
    assert search.best_params_ == {"shift": 0.0}
    # The estimator's fit got the segments as well: all 8 when refitted on the whole data.
    assert search.best_estimator_.n_fit_segments_ == 8


def test_localization_scorer_in_multimetric_search_and_renamed_request():
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            ShiftedOracle().set_fit_request(segments=False),
            {"shift": [1.0, 3.0]},
            scoring={"avg": make_localization_scorer(), "at_05": make_localization_scorer(0.5)},
            refit="avg",
            cv=2,
            error_score="raise",
        ).fit(X_VIDEOS, Y_VIDEOS, segments=VIDEO_SEGMENTS)
        assert search.best_estimator_.n_fit_segments_ is None
        scorer = make_localization_scorer().set_score_request(segments="true_segments")
        scores = cross_validate(
            ShiftedOracle(1.0),
            X_VIDEOS,
            Y_VIDEOS,
            scoring=scorer,
            cv=2,
            params={"true_segments": VIDEO_SEGMENTS},
            error_score="raise",
        )
    np.testing.assert_allclose(search.cv_results_["mean_test_avg"], [6 / 7, 2 / 7])
    np.testing.assert_allclose(search.cv_results_["mean_test_at_05"], [1.0, 0.0])
    np.testing.assert_allclose(scores["test_score"], [6 / 7, 6 / 7])


def test_localization_scorer_without_metadata_routing_says_how_to_enable_it():
    search = GridSearchCV(
        ShiftedOracle(),
        {"shift": [0.0]},
        scoring=make_localization_scorer(),
        cv=2,
        error_score="raise",
    )
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        search.fit(X_VIDEOS, Y_VIDEOS, segments=VIDEO_SEGMENTS)


# --- iou_per_class / mean_iou ------------------------------------------------------------------


def test_iou_per_class_by_hand():
    y_true = np.array([[0, 0, 1], [1, 2, -1]])
    y_pred = np.array([[0, 1, 1], [1, 0, 2]])
    # Kept positions (true, pred): (0,0) (0,1) (1,1) (1,1) (2,0); the last position is ignored.
    # Class 0: I = 1, U = 2 true + 2 predicted - 1 = 3. Class 1: I = 2, U = 2 + 3 - 2 = 3.
    # Class 2: I = 0, U = 1. Class 3 appears nowhere: NaN.
    expected = [1 / 3, 2 / 3, 0.0, np.nan]
    np.testing.assert_allclose(iou_per_class(y_true, y_pred, 4), expected)
    assert mean_iou(y_true, y_pred, 4) == pytest.approx(1 / 3)
    # Without an ignore index the last position counts: class 2 is then predicted once more and
    # -1 is an invalid label.
    with pytest.raises(ValueError, match=r"y_true has labels outside \[0, 4\): \[-1\]"):
        iou_per_class(y_true, y_pred, 4, ignore_index=None)


def test_iou_per_class_ignore_255_and_float_labels():
    y_true = np.array([0, 1, 255, 255, 1], dtype=np.uint8)
    y_pred = np.array([0.0, 0.0, 1.0, 7.0, 1.0])  # integral floats; 7 sits on an ignored pixel
    np.testing.assert_allclose(iou_per_class(y_true, y_pred, 2, ignore_index=255), [0.5, 0.5])
    assert mean_iou(y_true, y_pred, 2, ignore_index=255) == pytest.approx(0.5)


@pytest.mark.filterwarnings("ignore:A single label was found")
@settings(deadline=None, max_examples=60)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            arrays(np.int64, (4, 5), elements=st.integers(-1, n - 1)),
            arrays(np.int64, (4, 5), elements=st.integers(0, n - 1)),
        )
    )
)
def test_iou_per_class_matches_confusion_matrix(case):
    n_classes, y_true, y_pred = case
    keep = y_true != -1
    assume(keep.any())
    matrix = confusion_matrix(y_true[keep], y_pred[keep], labels=np.arange(n_classes))
    intersection = np.diag(matrix)
    union = matrix.sum(axis=0) + matrix.sum(axis=1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(union > 0, intersection / union, np.nan)
    np.testing.assert_allclose(iou_per_class(y_true, y_pred, n_classes), expected)
    assert mean_iou(y_true, y_pred, n_classes) == pytest.approx(np.nanmean(expected))


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, match",
    [
        ([0, 1], [0, 1, 1], {}, r"same shape, got \(2,\) and \(3,\)"),
        ([[0, 1]], [0, 1], {}, "same shape"),
        ([0, 3], [0, 1], {}, r"y_true has labels outside \[0, 3\) or -1: \[3\]"),
        ([0, 1], [0, -1], {}, r"y_pred has labels outside \[0, 3\): \[-1\]"),
        ([0, 1], [0, 1], {"ignore_index": 1}, "ignore_index=1 is one of the classes"),
        ([0, 1], [0, 1], {"ignore_index": 0.5}, "ignore_index must be an int"),
        ([0, 1], [0, 1], {"n_classes": 0}, "n_classes must be a positive int"),
        ([0.5, 1], [0, 1], {}, "integer class labels"),
        (["a", "b"], [0, 1], {}, "integer class labels"),
        ([-1, -1], [0, 1], {}, "No position is left"),
        ([], [], {}, "No position is left"),
    ],
)
def test_iou_per_class_errors(y_true, y_pred, kwargs, match):
    kwargs = {"n_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        iou_per_class(y_true, y_pred, **kwargs)
    with pytest.raises(ValueError, match=match):
        mean_iou(y_true, y_pred, **kwargs)


# --- shot_accuracy -----------------------------------------------------------------------------


def test_shot_accuracy_groups_by_hand():
    counts = {"a": 101, "b": 100, "c": 20, "d": 19, "e": 500}
    # Per-class accuracy: a 1/2, b 1, c 0, d 1/3, e 1 (e has four test samples).
    y_true = ["a", "a", "b", "c", "d", "d", "d", "e", "e", "e", "e"]
    y_pred = ["a", "b", "b", "a", "d", "a", "a", "e", "e", "e", "e"]
    result = shot_accuracy(y_true, y_pred, counts)
    assert list(result.index) == ["many", "medium", "few", "overall"]
    assert result["many"] == pytest.approx((1 / 2 + 1) / 2)  # a (101) and e (500)
    assert result["medium"] == pytest.approx((1 + 0) / 2)  # b (100) and c (20): boundaries
    assert result["few"] == pytest.approx(1 / 3)  # d (19)
    # The mean of per-class accuracies, not the sample accuracy 7/11.
    assert result["overall"] == pytest.approx((1 / 2 + 1 + 0 + 1 / 3 + 1) / 5)


def test_shot_accuracy_thresholds_series_and_empty_groups():
    y_train = np.repeat([0, 1, 2], [30, 8, 3])
    counts = pd.Series(y_train).value_counts()
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 0, 2, 2])
    result = shot_accuracy(y_true, y_pred, counts, many=10, few=5)
    np.testing.assert_allclose(result.to_numpy(), [1.0, 0.0, 1.0, 2 / 3])
    # With the default thresholds class 0 (30) is medium-shot, the others few-shot, and there
    # is no many-shot class (NaN).
    default = shot_accuracy(y_true, y_pred, counts)
    np.testing.assert_allclose(default.to_numpy(), [np.nan, 1.0, 0.5, 2 / 3])
    # Extra training labels are fine; counts of unseen classes can be zero.
    extra = shot_accuracy([5, 6], [5, 5], {5: 0, 6: 1000, 9: 3})
    np.testing.assert_allclose(extra.to_numpy(), [0.0, np.nan, 1.0, 0.5])


@pytest.mark.parametrize(
    "y_true, y_pred, counts, kwargs, match",
    [
        ([0, 1, 2], [0, 1, 2], {0: 5}, {}, r"no count for the test labels \[1, 2\]"),
        ([0, 1], [0], {0: 5, 1: 5}, {}, "same length"),
        ([], [], {0: 5}, {}, "empty"),
        ([0, None], [0, 1], {0: 5}, {}, "missing labels"),
        ([0, 1], [0, 1], [5, 5], {}, "must map each label"),
        ([0, 1], [0, 1], {0: 5, 1: -1}, {}, "non-negative"),
        ([0, 1], [0, 1], {0: 5, 1: "x"}, {}, "numbers of training samples"),
        ([0, 1], [0, 1], {0: 5, 1: 5}, {"many": 10, "few": 20}, "few=20 exceeds many=10"),
        ([0, 1], [0, 1], {0: 5, 1: 5}, {"many": "100"}, "many must be a number"),
    ],
)
def test_shot_accuracy_errors(y_true, y_pred, counts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        shot_accuracy(y_true, y_pred, counts, **kwargs)


# --- frequency_groups ----------------------------------------------------------------------------


@settings(deadline=None, max_examples=50)
@given(frequency=arrays(np.float64, st.integers(3, 40), elements=st.floats(0, 1)))
def test_frequency_groups_split_the_ranked_classes_into_thirds(frequency):
    groups = frequency_groups(frequency)
    sizes = [np.sum(groups == name) for name in ("head", "common", "tail")]
    assert sizes == [len(part) for part in np.array_split(np.arange(len(frequency)), 3)]
    # Every head class is at least as frequent as every common one, and so on down.
    assert frequency[groups == "head"].min() >= frequency[groups == "common"].max()
    assert frequency[groups == "common"].min() >= frequency[groups == "tail"].max()


def test_frequency_groups_with_thresholds():
    groups = frequency_groups([0.5, 0.1, 0.05, 0.01], thresholds=(0.05, 0.1))
    assert groups.tolist() == ["head", "head", "common", "tail"]


@pytest.mark.parametrize(
    "frequency, thresholds, match",
    [
        ([0.5, -0.1], None, "non-negative value per class"),
        ([[0.5, 0.5]], None, "non-negative value per class"),
        ([0.5, 0.5], (0.2, 0.1), "thresholds must be two training frequencies"),
    ],
)
def test_frequency_groups_errors(frequency, thresholds, match):
    with pytest.raises(ValueError, match=match):
        frequency_groups(frequency, thresholds)
