"""ClusterFBSeparator (CASE): sklearn contract, pseudo-label invariants, localisation."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV

from ncestimators import ClusterFBSeparator
from ncestimators._clusterfb._head import resample
from ncestimators._clusterfb._losses import (
    ClusterFBLoss,
    TrainingOutputs,
    attention_loss,
    cluster_labels,
    rank_prior,
    snippet_labels,
    topk_mask,
)
from ncestimators._clusterfb._proposals import (
    MIN_PROPOSAL_POINTS,
    UPSAMPLING,
    action_proposals,
    temporal_iou,
    window_proposals,
)
from ncestimators.datasets import make_wtal_videos
from ncestimators.metrics import localization_map, make_localization_scorer, segments_to_frame

FAST = {"n_clusters": 4, "hidden_dim": 8, "max_epochs": 5, "batch_size": 8, "lr": 0.01}


@pytest.fixture(scope="module")
def videos():
    return make_wtal_videos(
        n_videos=24, n_classes=3, n_features=12, min_length=16, max_length=40, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(videos):
    X, y, _ = videos
    return ClusterFBSeparator(**FAST, random_state=0).fit(X, y)


def test_outputs_have_the_documented_shapes(videos, fitted):
    X, y, _ = videos
    lengths = [len(video) for video in X]
    proba = fitted.predict_proba(X)
    assert proba.shape == y.shape
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    predicted = fitted.predict(X)
    assert predicted.shape == y.shape and set(np.unique(predicted)) <= {0, 1}
    assert (predicted.sum(axis=1) >= 1).all()
    clusters = fitted.cluster_proba(X)
    assert [c.shape for c in clusters] == [(n, 4) for n in lengths]
    np.testing.assert_allclose(np.concatenate(clusters).sum(axis=1), 1, rtol=1e-6)
    foreground = fitted.foreground_proba(X)
    assert [len(f) for f in foreground] == lengths
    assert all(((f >= 0) & (f <= 1)).all() for f in foreground)
    assert fitted.cluster_foreground_.shape == (4,)
    proposals = fitted.localize(X)
    assert list(proposals.columns) == ["video", "label", "start", "end", "score"]
    assert set(proposals["video"]) <= set(range(len(X)))
    assert (proposals["end"] > proposals["start"]).all()
    assert (proposals["end"] <= np.array(lengths)[proposals["video"]]).all()
    for video, classes in enumerate(predicted):
        assert set(proposals.loc[proposals["video"] == video, "label"]) <= set(
            np.flatnonzero(classes)
        )


def test_seconds_when_fps_is_given(videos, fitted):
    X, _, _ = videos
    in_snippets = fitted.localize(X[:3])
    in_seconds = fitted.set_params(fps=25.0).localize(X[:3])
    fitted.set_params(fps=None)
    np.testing.assert_allclose(in_seconds["start"], in_snippets["start"] * 16 / 25)


def test_label_lists_with_strings_and_single_labels(videos):
    X, y, _ = videos
    names = np.array(["dive", "jump", "vault"])
    label_lists = [list(names[row.astype(bool)]) for row in y]
    model = ClusterFBSeparator(**FAST, random_state=0).fit(X, label_lists)
    np.testing.assert_array_equal(model.classes_, names)
    assert model.predict(X).shape == (len(X), 3)
    assert set(model.localize(X[:4])["label"]) <= set(names)
    assert 0 <= model.score(X, label_lists) <= 1
    single = names[y.argmax(axis=1)]
    model = ClusterFBSeparator(**FAST, random_state=0).fit(X, single)
    assert model.predict(X).shape == (len(X),) and set(model.predict(X)) <= set(names)


@pytest.mark.parametrize(
    ("X", "y", "params", "message"),
    [
        ([np.ones((3, 4)), np.ones((0, 4))], [[1, 0], [0, 1]], {}, "no time steps"),
        ([np.ones((3, 4)), np.ones((2, 5))], [[1, 0], [0, 1]], {}, "same number of features"),
        ([np.ones((3, 4)), np.ones((2, 4))], [[1, 0], [0, 1], [1, 1]], {}, "inconsistent"),
        ([np.ones((3, 4)), np.ones((2, 4))], np.array([[2, 0], [0, 1]]), {}, "only 0 and 1"),
        ([np.ones((3, 4)), np.ones((2, 4))], np.array([[1, 2], [2, 1]]), {}, "only 0 and 1"),
        ([np.ones((3, 3)), np.ones((2, 3))], [[1, 0], [0, 1]], {"n_streams": 2}, "n_streams=1"),
        ([np.ones((3, 4)), np.ones((2, 4))], [["a"], ["a"]], {}, "at least 2 classes"),
    ],
)
def test_bad_training_input_is_a_value_error(X, y, params, message):
    with pytest.raises(ValueError, match=message):
        ClusterFBSeparator(**{**FAST, **params}).fit(X, y)


def test_bad_prediction_input_is_a_value_error(videos, fitted):
    X, y, segments = videos
    with pytest.raises(ValueError, match="no time steps"):
        fitted.localize([X[0], X[0][:0]])
    with pytest.raises(ValueError, match=r"labels \[7\] that are not among the fitted"):
        fitted.score(X[:2], [[0], [7]])
    with pytest.raises(ValueError, match="4 columns, but the estimator was fitted on 3"):
        fitted.score(X[:2], np.eye(2, 4, dtype=int))
    with pytest.raises(ValueError, match="segments has 3 entries but X has 4 videos"):
        fitted.score(X[:4], y[:4], segments=segments[:3])
    bad = [np.array([[5, 1.0, 2.0]])] + list(segments[1:4])
    with pytest.raises(ValueError, match=r"segments of video 0 have labels \[5\]"):
        fitted.score(X[:4], y[:4], segments=bad)


def test_score_is_localization_map_with_segments(videos, fitted):
    X, y, segments = videos
    expected = localization_map(segments_to_frame(segments), fitted.localize(X))["mean"]
    assert fitted.score(X, y, segments=segments) == pytest.approx(expected)
    assert 0 <= fitted.score(X, y) <= 1
    scorer = make_localization_scorer()
    assert scorer(fitted, X, y, segments=segments) == pytest.approx(expected)


def test_grid_search_routes_segments_to_the_scorer_only(videos):
    X, y, segments = videos
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            ClusterFBSeparator(**{**FAST, "max_epochs": 2}, random_state=0),
            {"prior_sigma": [0.1, None]},
            scoring=make_localization_scorer(),
            cv=2,
        ).fit(X, y, segments=segments)
    assert search.best_params_["prior_sigma"] in (0.1, None)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # fit takes no segments, so it would raise if the search passed them on; the estimator's
    # own score can request them instead of a scorer.
    with sklearn.config_context(enable_metadata_routing=True):
        model = ClusterFBSeparator(**{**FAST, "max_epochs": 2}, random_state=0)
        search = GridSearchCV(
            model.set_score_request(segments=True), {"n_clusters": [2]}, cv=2
        ).fit(X, y, segments=segments)
    assert 0 <= search.best_score_ <= 1


def test_two_streams_early_stopping_and_warm_start(videos):
    X, y, _ = videos
    model = ClusterFBSeparator(
        **{**FAST, "max_epochs": 30}, n_streams=2, validation_fraction=0.25,
        n_iter_no_change=2, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert len(model._head.streams) == 2 and model.n_iter_ < 30
    np.testing.assert_array_equal(model.cluster_foreground_, model._head.cluster_foreground.numpy())
    model = ClusterFBSeparator(**{**FAST, "max_epochs": 2}, warm_start=True, random_state=0)
    model.fit(X, y).set_params(n_snippets=8, lambda_cluster=0.0).fit(X, y)
    assert model.n_iter_ == 4
    assert model._head.n_snippets == 8 and model.net_.criterion_.lambda_cluster == 0.0


def test_resample_draws_one_step_per_bin_and_no_padding():
    inputs = torch.full((2, 20, 1), torch.nan)
    inputs[0, :5, 0] = torch.arange(5.0)
    inputs[1, :, 0] = torch.arange(20.0)
    drawn = resample(inputs, 10)[..., 0]
    assert not torch.isnan(drawn).any()
    np.testing.assert_array_equal(drawn[0], torch.arange(10) // 2)  # short videos repeat steps
    np.testing.assert_array_equal(drawn[1] // 2, torch.arange(10))


def test_topk_mask_respects_lengths_and_padding():
    scores = torch.rand(2, 17, 3)
    mask = torch.arange(17) < torch.tensor([[17], [9]])
    selected = topk_mask(scores, mask, 1 / 8)
    np.testing.assert_array_equal(selected.sum(dim=1), [[2, 2, 2], [1, 1, 1]])
    assert not selected[1, 9:].any()
    best = scores[1, :9].argmax(dim=0)
    assert selected[1, best, torch.arange(3)].all()


def test_attention_loss_hand_computed():
    attention = torch.tensor([[[0.8, 0.2, 0.5, 0.9]]])
    foreground = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True, False]])
    q = 0.5
    positive = (1 - 0.8**q) / q
    negative = ((1 - 0.8**q) / q + (1 - 0.5**q) / q) / 2
    loss = attention_loss(attention, foreground, mask, q)
    assert loss.item() == pytest.approx(positive + negative, rel=1e-5)


# --- sample weights ------------------------------------------------------------------------------


def _loss_inputs(lengths, seed, n_classes=3, n_clusters=3, hidden_dim=4):
    """Training outputs of one stream for videos of ``lengths`` snippets, and their labels."""
    generator = torch.Generator().manual_seed(seed)
    n_videos, n_steps = len(lengths), max(lengths)
    mask = torch.arange(n_steps) < torch.tensor(lengths)[:, None]
    outputs = TrainingOutputs(
        torch.randn(n_videos, 1, n_steps, n_classes, generator=generator),
        torch.rand(n_videos, 1, n_steps, generator=generator),
        2 * torch.rand(n_videos, 1, n_steps, n_clusters, generator=generator) - 1,
        mask,
        torch.randn(n_videos, 1, n_steps, hidden_dim, generator=generator),
        torch.full((n_clusters,), 0.5),
        torch.zeros(n_clusters + 1),
    )
    target = (torch.rand(n_videos, n_classes, generator=generator) < 0.5).float()
    return outputs, target


def _videos_of(outputs, keep):
    """The outputs of the videos ``keep``, with buffers of their own."""
    return TrainingOutputs(
        *(part[keep] for part in outputs[:5]),
        outputs.prior_foreground.clone(),
        outputs.foreground_sum.clone(),
    )


def _criterion():
    return ClusterFBLoss(
        topk_ratio=0.25, gce_q=0.7, lambda_cluster=1.0, lambda_cluster_cls=0.3,
        prior_sigma=0.1, cluster_labeling="ot",
    )  # fmt: skip


def test_video_and_attention_losses_are_weighted_means_over_the_videos():
    outputs, target = _loss_inputs([6, 9, 4], seed=0)
    weights = torch.tensor([1.0, 3.0, 0.5])
    criterion = _criterion().eval()
    loss = criterion(outputs[:4], target, sample_weight=weights)
    alone = [criterion(_videos_of(outputs, [b])[:4], target[[b]]) for b in range(3)]
    expected = sum(w * value for w, value in zip(weights, alone, strict=True)) / weights.sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=4, max_size=4),
    scale=st.floats(0.01, 100),
    seed=st.integers(0, 2**16),
)
def test_scaled_weights_keep_the_loss_and_zero_weights_remove_videos(weights, scale, seed):
    outputs, target = _loss_inputs([8, 12, 5, 10], seed)
    weights = torch.tensor(weights)
    if not weights.any():
        weights[0] = 1.0
    criterion = _criterion()
    everything = _videos_of(outputs, slice(None))
    loss = criterion(everything, target, sample_weight=weights)
    scaled = criterion(_videos_of(outputs, slice(None)), target, sample_weight=scale * weights)
    assert scaled.item() == pytest.approx(loss.item(), rel=1e-4, abs=1e-6)
    keep = weights > 0
    kept_outputs = _videos_of(outputs, keep)
    kept = criterion(kept_outputs, target[keep], sample_weight=weights[keep])
    assert kept.item() == pytest.approx(loss.item(), rel=1e-4, abs=1e-6)
    # The clusters' foreground probabilities move as they would without those videos.
    np.testing.assert_allclose(everything.prior_foreground, kept_outputs.prior_foreground)


def test_integer_weights_act_like_repeated_videos(videos):
    # One batch holds all the videos. Without the clustering terms: their pseudo-labels count
    # every snippet of the batch once, repeated or not.
    X, y, _ = videos
    X = np.array(X, dtype=object)
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    params = {
        **FAST, "batch_size": 128, "lambda_cluster": 0.0, "lambda_cluster_cls": 0.0,
        "random_state": 0,
    }  # fmt: skip
    weighted = ClusterFBSeparator(**params).fit(X, y, sample_weight=weights)
    repeated = ClusterFBSeparator(**params).fit(np.repeat(X, weights), np.repeat(y, weights, 0))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    unweighted = ClusterFBSeparator(**params).fit(X, y)
    assert np.abs(weighted.predict_proba(X) - unweighted.predict_proba(X)).max() > 0.01


def test_zero_weights_make_the_fit_ignore_mislabelled_videos():
    # Every other training video has classes 0 and 1 swapped. In one batch, the videos of
    # weight 0 take part in nothing.
    X, y, _ = make_wtal_videos(
        n_videos=96, n_classes=3, n_features=12, min_length=16, max_length=32, random_state=0
    )
    X = np.array(X, dtype=object)
    X, y, X_test, y_test = X[:64], y[:64], X[64:], y[64:]
    mislabelled = np.arange(64) % 2 == 0
    noisy = y.copy()
    noisy[mislabelled] = y[mislabelled][:, [1, 0, 2]]
    params = {**FAST, "hidden_dim": 16, "max_epochs": 40, "batch_size": 64, "lr": 0.02}

    def true_class_proba(model):
        return np.mean(np.sum(y_test * model.predict_proba(X_test), axis=1))

    ignored = ClusterFBSeparator(**params, random_state=0).fit(
        X, noisy, sample_weight=(~mislabelled).astype(float)
    )
    removed = ClusterFBSeparator(**params, random_state=0).fit(X[~mislabelled], noisy[~mislabelled])
    trusted = ClusterFBSeparator(**params, random_state=0).fit(X, noisy)
    np.testing.assert_allclose(
        ignored.predict_proba(X_test), removed.predict_proba(X_test), rtol=1e-4, atol=1e-5
    )
    assert true_class_proba(ignored) > true_class_proba(trusted) + 0.1


@settings(max_examples=25, deadline=None)
@given(
    n_snippets=st.integers(8, 60),
    n_clusters=st.integers(2, 6),
    sigma=st.sampled_from([None, 0.1, 0.5]),
    seed=st.integers(0, 2**16),
)
def test_snippet_labels_satisfy_the_equipartition_marginals(n_snippets, n_clusters, sigma, seed):
    generator = torch.Generator().manual_seed(seed)
    cosines = torch.rand(n_snippets, n_clusters, generator=generator, dtype=torch.float64)
    attention = torch.rand(n_snippets, generator=generator, dtype=torch.float64)
    foreground = torch.rand(n_clusters, generator=generator, dtype=torch.float64)
    # A narrow prior slows Sinkhorn down: 500 iterations left 1.1e-3 on 8 snippets.
    labels = snippet_labels(
        cosines, attention, foreground, prior_sigma=sigma, labeling="ot", n_iter=5000
    )
    np.testing.assert_allclose(labels.sum(dim=1), 1, atol=1e-10)
    np.testing.assert_allclose(labels.sum(dim=0), n_snippets / n_clusters, rtol=1e-3)
    hard = snippet_labels(cosines, attention, foreground, prior_sigma=sigma, labeling="ot_hard")
    np.testing.assert_array_equal(hard.sum(dim=1), 1)


def test_rank_prior_uses_each_snippets_rank():
    attention = torch.tensor([0.9, 0.1, 0.5, 0.3], dtype=torch.float64)
    foreground = torch.tensor([0.0, 1.0], dtype=torch.float64)
    prior = rank_prior(attention, foreground, sigma=0.5)
    ranks = np.array([4, 1, 3, 2])  # ascending attention; argsort(attention) + 1 is [2, 4, 3, 1]
    log_prior = -((ranks[:, None] / 4 - foreground.numpy()) ** 2) / (2 * 0.5**2)
    expected = np.exp(log_prior - log_prior.max(axis=1, keepdims=True))
    np.testing.assert_allclose(prior.numpy(), expected)
    assert prior[0, 1] > prior[0, 0] and prior[1, 0] > prior[1, 1]
    # A vanishing width still leaves a plan that meets the marginals.
    narrow = rank_prior(attention.float(), torch.tensor([0.3, 0.31]), sigma=1e-4)
    assert (narrow > 0).all()
    labels = snippet_labels(
        torch.zeros(4, 2), attention.float(), torch.tensor([0.3, 0.31]), prior_sigma=1e-4,
        labeling="ot", n_iter=200,
    )  # fmt: skip
    np.testing.assert_allclose(labels.sum(dim=0), [2, 2], rtol=1e-4)


def test_rank_prior_sends_foreground_snippets_to_foreground_clusters():
    # With uninformative cosines the plan follows the prior: snippets sorted by attention go to
    # clusters sorted by foreground probability. A prior built from argsort indices would not.
    generator = torch.Generator().manual_seed(0)
    attention = torch.rand(40, generator=generator, dtype=torch.float64)
    foreground = torch.tensor([0.9, 0.1, 0.5, 0.3], dtype=torch.float64)
    cosines = torch.zeros(40, 4, dtype=torch.float64)
    labels = snippet_labels(cosines, attention, foreground, prior_sigma=0.1, labeling="ot")
    assigned_foreground = foreground[labels.argmax(dim=1)]
    order = attention.argsort()
    assert (assigned_foreground[order].diff() >= 0).all()
    np.testing.assert_array_equal(assigned_foreground[order[:5]], 0.1)
    np.testing.assert_array_equal(assigned_foreground[order[-5:]], 0.9)


def test_the_papers_sigma_makes_the_prior_flat():
    generator = torch.Generator().manual_seed(0)
    cosines = torch.rand(50, 4, generator=generator, dtype=torch.float64)
    attention = torch.rand(50, generator=generator, dtype=torch.float64)
    foreground = torch.tensor([0.9, 0.1, 0.5, 0.3], dtype=torch.float64)
    flat = snippet_labels(cosines, attention, foreground, prior_sigma=10.0, labeling="ot")
    plain = snippet_labels(cosines, attention, foreground, prior_sigma=None, labeling="ot")
    shaped = snippet_labels(cosines, attention, foreground, prior_sigma=0.1, labeling="ot")
    np.testing.assert_allclose(flat, plain, atol=0.02)
    assert (shaped - plain).abs().max() > 0.5


@settings(max_examples=25, deadline=None)
@given(n_clusters=st.integers(2, 16), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_cluster_labels_follow_the_foreground_marginal(n_clusters, fraction, seed):
    generator = torch.Generator().manual_seed(seed)
    cosines = torch.rand(n_clusters, 2, generator=generator, dtype=torch.float64)
    foreground = (torch.arange(200) < round(200 * fraction)).double()
    labels = cluster_labels(cosines, foreground, n_iter=2000)
    beta = np.array([foreground.mean(), 1 - foreground.mean()])  # Eq. 13
    np.testing.assert_allclose(labels.sum(dim=1), 1, atol=1e-10)
    np.testing.assert_allclose(labels.sum(dim=0) / n_clusters, beta, atol=1e-3)


def test_cluster_labeling_variants_and_collapse():
    # Table 5: arg-max labels without optimal transport put every snippet in the cluster that
    # already wins; the OT plan spreads them evenly.
    generator = torch.Generator().manual_seed(0)
    cosines = 0.1 * torch.rand(30, 3, generator=generator, dtype=torch.float64)
    cosines[:, 0] += 0.2
    attention = torch.linspace(0, 1, 30, dtype=torch.float64)
    foreground = torch.full((3,), 0.5, dtype=torch.float64)
    argmax = snippet_labels(cosines, attention, foreground, prior_sigma=None, labeling="argmax")
    assert argmax[:, 0].sum() == 30
    ot = snippet_labels(cosines, attention, foreground, prior_sigma=None, labeling="ot_hard")
    assert ot.sum(dim=0).min() >= 5


def test_clusters_find_the_planted_styles_and_method_localises():
    X, y, segments, styles = make_wtal_videos(
        n_videos=160, n_classes=3, n_features=24, min_length=40, max_length=80,
        noise=0.5, return_styles=True, random_state=0,
    )  # fmt: skip
    train, test = slice(0, 120), slice(120, 160)
    model = ClusterFBSeparator(
        n_clusters=8, hidden_dim=32, max_epochs=30, lr=3e-3, random_state=0
    ).fit(X[train], y[train])
    truth = segments_to_frame(segments[test])
    found = localization_map(truth, model.localize(X[test]))["mean"]
    # Trivial baseline: the whole video as one proposal of each of its true classes.
    whole = pd.DataFrame(
        [(video, label, 0.0, len(X[test][video]), 1.0)
         for video, row in enumerate(y[test]) for label in np.flatnonzero(row)],
        columns=["video", "label", "start", "end", "score"],
    )  # fmt: skip
    trivial = localization_map(truth, whole)["mean"]
    assert found > 0.3 > 2 * trivial
    # Snippets of the same style share clusters: the clusters explain most of the style labels.
    clusters = np.concatenate([p.argmax(axis=1) for p in model.cluster_proba(X[test])])
    planted = np.concatenate(styles[test])
    assert sklearn.metrics.normalized_mutual_info_score(planted, clusters) > 0.3


def best_iou(segment, proposals):
    return temporal_iou(np.array(segment, dtype=float), proposals[:, :2]).max()


def test_a_long_action_with_dips_is_proposed_whole_and_first():
    # Snippet scores dip below every threshold inside the action; thresholds alone split it.
    actionness = np.full(200, 0.05)
    actionness[60:140] = 0.9
    actionness[[80, 100, 101, 120]] = 0.05
    proposals = action_proposals(actionness, video_score=0.9)
    assert best_iou([60, 140], proposals[:1]) > 0.95
    # Its fragments remain, ranked below it.
    assert best_iou([60, 80], proposals) > 0.95


def test_whole_actions_rank_above_their_fragments_next_to_another_action():
    # Action A has dips; action B starts 3 snippets after it. A band of a quarter of A's length
    # would reach into B and rank A's fragments above A.
    actionness = np.full(200, 0.05)
    actionness[40:120] = 0.8
    actionness[[60, 80, 100]] = 0.1
    actionness[123:150] = 0.8
    top = action_proposals(actionness, video_score=0.9)[:2]
    assert best_iou([40, 120], top) > 0.95 and best_iou([123, 150], top) > 0.95


@settings(max_examples=25, deadline=None)
@given(
    n_snippets=st.integers(1, 80),
    seed=st.integers(0, 2**16),
    video_score=st.floats(0, 1),
)
def test_proposals_are_sorted_inside_the_video_and_not_too_short(n_snippets, seed, video_score):
    rng = np.random.default_rng(seed)
    actionness = rng.uniform(size=n_snippets) ** rng.uniform(0.2, 3)
    proposals = action_proposals(actionness, video_score)
    starts, ends, scores = proposals.T
    assert (ends - starts >= MIN_PROPOSAL_POINTS / UPSAMPLING - 1e-12).all()
    assert (starts >= 0).all() and (ends <= n_snippets).all()
    assert (np.diff(scores) <= 1e-12).all()
    # No two candidates are the same segment.
    assert len(np.unique(proposals[:, :2], axis=0)) == len(proposals)


def test_window_proposals_tile_the_video_at_half_overlap():
    actionness = np.zeros(20)
    actionness[10:14] = 1.0
    windows = window_proposals(actionness, video_score=0.5, length=4)
    spans = windows[np.argsort(windows[:, 0]), :2]
    np.testing.assert_allclose(spans[:, 0], np.arange(0, 17, 2))
    np.testing.assert_allclose(spans[:, 1] - spans[:, 0], 4)
    np.testing.assert_array_equal(windows[0, :2], [10, 14])  # the window on the action first
    assert 0.9 + 0.15 * 0.5 < windows[0, 2] <= 1 + 0.15 * 0.5
    np.testing.assert_allclose(window_proposals(actionness, 0.5, length=50)[:, :2], [[0, 20]])


def test_long_actions_are_localised_whole_and_better_than_fixed_windows():
    # Instances of 8-45 snippets, much longer than a snippet. Before proposals were also cut
    # from moving averages and the contrast band was capped, the best proposal of a video's
    # class was about half its action and fixed windows localised better on 6 of seeds 0-9. Now
    # both hold on 8 of them; on the other two (2 and 5) training itself fails (every method,
    # windows included, scores below 0.2).
    X, y, segments = make_wtal_videos(
        n_videos=80, n_classes=3, n_features=24, min_length=200, max_length=300, random_state=0
    )
    train, test = slice(0, 60), slice(60, 80)
    model = ClusterFBSeparator(
        n_clusters=8, hidden_dim=32, max_epochs=20, lr=3e-3, random_state=0
    ).fit(X[train], y[train])
    truth = segments_to_frame(segments[test])
    proposals = model.localize(X[test])
    best = proposals.groupby(["video", "label"]).head(1)
    ratio = (best["end"] - best["start"]).mean() / (truth["end"] - truth["start"]).mean()
    assert 1 / 1.5 < ratio < 1.5
    # The baseline's one parameter, the window length, from the training segments.
    length = np.mean([end - start for video in segments[train] for _, start, end in video])
    windows = model.localize(X[test], proposals=partial(window_proposals, length=length))
    assert localization_map(truth, proposals)["mean"] > localization_map(truth, windows)["mean"]
