"""CoFInAIRegressor: coarse-to-fine action quality assessment."""

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV
from torch.nn import functional as F

from ncestimators import CoFInAIRegressor
from ncestimators._cofinai._estimator import cosine_factor, grade_indices
from ncestimators._cofinai._head import expected_unit_score, random_crop
from ncestimators._cofinai._losses import CoarseToFineLoss, attention_overlap, graph_regulariser
from ncestimators.datasets import make_aqa_sequences
from ncestimators.metrics import srcc

FAST = {
    "n_grades": 3,
    "n_subgrades": 3,
    "n_procedures": 2,
    "d_procedure": 8,
    "d_score": 4,
    "max_epochs": 5,
    "batch_size": 16,
    "lr": 0.01,
}


@pytest.fixture(scope="module")
def videos():
    return make_aqa_sequences(n_videos=40, n_clips=(3, 7), n_features=6, n_procedures=3,
                              random_state=0)  # fmt: skip


@pytest.fixture(scope="module")
def fitted(videos):
    X, y = videos
    return CoFInAIRegressor(**FAST, random_state=0).fit(X, y)


def _pad(sequences):
    padded = np.full((len(sequences), max(map(len, sequences)), sequences[0].shape[1]), np.nan)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded


def test_grid_search_over_grade_counts(videos):
    X, y = videos
    grid = {"n_grades": [2, 4], "n_subgrades": [2, 3]}
    search = GridSearchCV(CoFInAIRegressor(**FAST, random_state=0), grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.grade_width_ == pytest.approx(np.ptp(y) / best.n_grades)
    assert best.subgrade_prototypes_.shape == (best.n_subgrades, 4)


def test_padding_does_not_change_a_prediction(videos, fitted):
    X, _ = videos
    shortest = int(np.argmin([len(x) for x in X]))
    alone = fitted.predict([X[shortest]])
    np.testing.assert_allclose(fitted.predict(X)[shortest], alone[0], rtol=1e-5)


def test_fit_on_every_input_form_gives_the_same_model(videos):
    X, y = videos
    flat = np.stack([sequence[0] for sequence in X])
    on_flat = CoFInAIRegressor(**FAST, random_state=0).fit(flat, y).predict(flat)
    on_ragged = CoFInAIRegressor(**FAST, random_state=0).fit([x[:1] for x in X], y)
    np.testing.assert_allclose(on_ragged.predict(flat), on_flat, rtol=1e-6)
    on_list = CoFInAIRegressor(**FAST, random_state=0).fit(X, y).predict(X)
    on_padded = CoFInAIRegressor(**FAST, random_state=0).fit(_pad(X), y).predict(X)
    np.testing.assert_array_equal(on_padded, on_list)


def _with_nan_inside(X):
    broken = [x.copy() for x in X]
    broken[1][1, 0] = np.nan
    return broken


@pytest.mark.parametrize(
    ("change", "params", "message"),
    [
        (lambda X, y: (_with_nan_inside(X), y), {}, "NaN inside sequence 1"),
        (lambda X, y: (_pad(_with_nan_inside(X)), y), {}, "NaN inside sequence 1"),
        (lambda X, y: ([X[0][:, :-1], *X[1:]], y), {}, "same number of features"),
        (lambda X, y: (X, y[:-1]), {}, "inconsistent numbers of samples"),
        (lambda X, y: (X, np.full(len(y), 7.0)), {}, "score range is empty"),
        (lambda X, y: (X[:1], y[:1]), {}, r"every training score equals .* \(1 sample\)"),
        (lambda X, y: (X, np.r_[np.nan, y[1:]]), {}, "y contains NaN"),
        (lambda X, y: (X, y), {"score_range": (5, 5)}, "finite lo < hi"),
        (lambda X, y: (X, y), {"score_range": (0, 1, 2)}, "finite lo < hi"),
        (lambda X, y: (X, y), {"score_range": ("low", "high")}, "finite lo < hi"),
        (lambda X, y: (X, y), {"n_subgrades": 6}, "d_score >= n_subgrades - 1 = 5"),
    ],
)
def test_bad_input_is_a_value_error(videos, change, params, message):
    X, y = change(*videos)
    with pytest.raises(ValueError, match=message):
        CoFInAIRegressor(**{**FAST, **params}).fit(X, y)


def test_d_score_is_free_without_fine_scoring(videos):
    X, y = videos
    model = CoFInAIRegressor(**{**FAST, "n_subgrades": 6}, fine_scoring=False).fit(X, y)
    assert not hasattr(model, "subgrade_prototypes_")


def test_predict_grades(videos, fitted):
    X, _ = videos
    grades = fitted.predict_grades(X)
    assert grades.columns.tolist() == [
        "grade", "subgrade", "grade_proba", "subgrade_proba", "score"
    ]  # fmt: skip
    np.testing.assert_array_equal(grades["score"], fitted.predict(X))
    assert grades["grade"].between(0, 2).all() and grades["subgrade"].between(0, 2).all()
    assert grades[["grade_proba", "subgrade_proba"]].stack().between(1 / 3, 1).all()
    lo, hi = fitted.score_range_
    assert grades["score"].between(lo, hi).all()
    frame = pd.DataFrame(np.stack([x[0] for x in X]), index=[f"v{i}" for i in range(len(X))])
    assert fitted.predict_grades(frame).index.tolist() == frame.index.tolist()


def test_predicted_subgrade_is_the_nearest_prototype(videos, fitted):
    X, _ = videos
    *_, cosines = fitted._forward(_pad(X))
    np.testing.assert_array_equal(fitted.predict_grades(X)["subgrade"], cosines.argmax(dim=1))


def test_fitted_attributes(videos, fitted):
    _, y = videos
    assert fitted.score_range_ == (y.min(), y.max())
    assert fitted.grade_width_ == pytest.approx(np.ptp(y) / 3)
    assert fitted.subgrade_width_ == pytest.approx(np.ptp(y) / 9)
    assert fitted.grade_prototypes_.shape == (3, 8)
    etf = fitted.subgrade_prototypes_
    np.testing.assert_allclose(etf @ etf.T, 1.5 * np.eye(3) - 0.5, atol=1e-6)
    assert fitted.n_features_in_ == 6 and fitted.n_iter_ == 5


@pytest.mark.parametrize(
    ("switch", "removed", "missing"),
    [
        ({"lambda_graph": 0.0}, set(), None),
        ({"temporal_fusion": False}, {"fusion.query", "fusion.key", "fusion.value"}, None),
        (
            {"grade_parsing": False},
            {"parsing.prototypes", "parsing.query", "parsing.key", "parsing.value"},
            "grade_prototypes_",
        ),
        ({"fine_scoring": False}, {"subgrade_prototypes"}, "subgrade_prototypes_"),
    ],
)
def test_each_ablation_removes_its_part(videos, switch, removed, missing):
    X, y = videos
    full = CoFInAIRegressor(**FAST, random_state=0).fit(X, y)
    model = CoFInAIRegressor(**FAST, **switch, random_state=0).fit(X, y)
    kept = {name for name, tensor in model._head.state_dict().items() if tensor.numel()}
    gone = set(full._head.state_dict()) - kept
    assert {prefix for prefix in removed for name in gone if name.startswith(prefix)} == removed
    assert all(any(name.startswith(prefix) for prefix in removed) for name in gone)
    grades = model.predict_grades(X)
    assert grades["score"].between(*model.score_range_).all()
    assert not np.array_equal(grades["score"], full.predict(X))
    if missing is not None:
        assert not hasattr(model, missing) and hasattr(full, missing)
    if switch == {"fine_scoring": False}:
        assert grades["subgrade"].isna().all() and grades["subgrade_proba"].isna().all()
        # The score is the expected grade's centre, so one grade pins it to the centre.
        expected = model.score_range_[0] + model.grade_width_ * (grades["grade"] + 0.5)
        certain = grades["grade_proba"] > 0.999
        np.testing.assert_allclose(grades["score"][certain], expected[certain], rtol=1e-3)


@pytest.mark.parametrize(
    ("weight", "term"),
    [
        ("lambda_graph", lambda head, outputs: graph_regulariser(head.parsing.prototypes)),
        ("lambda_diversity", lambda head, outputs: attention_overlap(outputs[-1])),
    ],
)
def test_without_a_term_the_loss_drops_exactly_that_term(videos, weight, term):
    X, y = videos
    model = CoFInAIRegressor(**FAST, random_state=0).fit(X, y)
    head = model._head.train()
    inputs = torch.as_tensor(_pad(X[:8]), dtype=torch.float32)
    target = torch.as_tensor(model._encode_target(None, y[:8]))
    torch.manual_seed(0)
    outputs = head(inputs)
    full = model._build_criterion().train()(outputs, target)
    weighted = model.get_params()[weight] * term(head, outputs).item()
    ablated = model.set_params(**{weight: 0.0})._build_criterion().train()(outputs, target)
    assert weighted > 0
    assert (full - ablated).item() == pytest.approx(weighted, rel=1e-4)


# --- sample weights ------------------------------------------------------------------------------


def test_weighted_score_loss_is_the_weighted_mean_over_the_videos():
    # L_S alone (eval mode), with 3 x 3 sub-grades over the range: errors in ninths.
    unit_score, target = torch.tensor([0.1, 0.5, 0.9]), torch.tensor([0.2, 0.5, 0.6])
    outputs = (unit_score, None, None, None, None, None, None)
    criterion = CoarseToFineLoss(
        n_levels=9, lambda_coarse=1.0, lambda_fine=1.0, lambda_graph=1.0, lambda_diversity=1.0
    ).eval()
    loss = criterion(outputs, target[:, None].expand(3, 3), torch.tensor([2.0, 1.0, 0.0]))
    assert loss.item() == pytest.approx(0.5 * (2 * 0.9**2 + 1 * 0) / 3, rel=1e-5)


@settings(max_examples=20, deadline=None)
@given(
    weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=6, max_size=6),
    scale=st.floats(0.01, 100),
)
def test_training_loss_weighs_each_videos_terms(fitted, videos, weights, scale):
    X, y = videos
    weights = torch.tensor(weights)
    assume(weights.any())
    head = copy.deepcopy(fitted._head).train()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        outputs = head(torch.as_tensor(_pad(X[:6]), dtype=torch.float32))
    target = torch.as_tensor(fitted._encode_target(None, y[:6], reset=False))
    criterion = fitted._build_criterion().train()
    loss = criterion(outputs, target, sample_weight=weights)
    assert criterion(outputs, target, scale * weights).item() == pytest.approx(
        loss.item(), rel=1e-4
    )
    unit_score, _, _, grade_logits, subgrade_cosines, prototypes, attention = outputs
    grades, subgrades = target[:, 1].long(), target[:, 2].long()
    true_cosines = subgrade_cosines[torch.arange(6), subgrades]
    per_video = (
        0.5 * (criterion.n_levels * (unit_score - target[:, 0])) ** 2
        + fitted.lambda_coarse * F.cross_entropy(grade_logits, grades, reduction="none")
        + fitted.lambda_fine * 0.5 * (true_cosines - 1) ** 2
        + fitted.lambda_diversity * torch.stack([attention_overlap(a[None]) for a in attention])
    )
    # The graph regulariser acts on the prototypes: not weighted.
    expected = weights @ per_video / weights.sum()
    expected += fitted.lambda_graph * graph_regulariser(prototypes)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4)


def test_integer_weights_act_like_repeated_samples(videos):
    # One batch holds all the videos, and without dropout training draws nothing.
    X, y = videos
    X = np.array(X, dtype=object)
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    params = {**FAST, "max_epochs": 10, "batch_size": 256, "dropout": 0.0, "random_state": 0}
    params["score_range"] = (y.min(), y.max())
    weighted = CoFInAIRegressor(**params).fit(X, y, sample_weight=weights)
    repeated = CoFInAIRegressor(**params).fit(np.repeat(X, weights), np.repeat(y, weights))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-4, atol=1e-4)
    unweighted = CoFInAIRegressor(**params).fit(X, y)
    assert np.abs(weighted.predict(X) - unweighted.predict(X)).max() > 0.01 * np.ptp(y)


def test_zero_weights_make_the_fit_ignore_corrupted_scores():
    # Every other training video has its score mirrored in the range. One batch, no dropout,
    # and a fixed score range: the videos of weight 0 take part in nothing.
    X, y = make_aqa_sequences(
        n_videos=120, n_clips=(3, 7), n_features=6, n_procedures=3, random_state=0
    )
    X = np.array(X, dtype=object)
    X, y, X_test, y_test = X[:80], y[:80], X[80:], y[80:]
    corrupted = np.arange(80) % 2 == 0
    noisy = np.where(corrupted, y.min() + y.max() - y, y)
    params = {
        **FAST, "max_epochs": 40, "batch_size": 128, "dropout": 0.0,
        "score_range": (y.min(), y.max()), "random_state": 0,
    }  # fmt: skip
    ignored = CoFInAIRegressor(**params).fit(X, noisy, sample_weight=(~corrupted).astype(float))
    removed = CoFInAIRegressor(**params).fit(X[~corrupted], noisy[~corrupted])
    trusted = CoFInAIRegressor(**params).fit(X, noisy)
    np.testing.assert_allclose(ignored.predict(X_test), removed.predict(X_test), rtol=1e-4)
    assert ignored.score(X_test, y_test) > trusted.score(X_test, y_test) + 0.15


@settings(max_examples=50, deadline=None)
@given(
    n_queries=st.integers(1, 6),
    n_clips=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.0, 20.0),
)
def test_attention_overlap_is_a_permutation_invariant_share(n_queries, n_clips, seed, scale):
    generator = torch.Generator().manual_seed(seed)
    attention = (scale * torch.randn(3, n_queries, n_clips, generator=generator)).softmax(dim=2)
    overlap = attention_overlap(attention).item()
    assert -1e-6 <= overlap <= 1 + 1e-6
    permuted = attention[:, torch.randperm(n_queries, generator=generator)]
    assert attention_overlap(permuted).item() == pytest.approx(overlap, abs=1e-6)
    alike = attention[:, :1].expand(-1, n_queries, -1)
    assert attention_overlap(alike).item() == pytest.approx(1.0 if n_queries > 1 else 0.0)


def test_attention_overlap_vanishes_for_queries_on_disjoint_clips():
    attention = torch.zeros(2, 3, 6)
    attention[:, 0, :2] = 0.5
    attention[:, 1, 2:5] = 1 / 3
    attention[:, 2, 5] = 1.0
    assert attention_overlap(attention).item() == pytest.approx(0.0, abs=1e-7)


def _attention_shares(model, X, procedures):
    """(P, P) mean share of each query's attention on the clips of each true procedure."""
    weights = model.procedure_attention(X)
    shares = sum(
        video @ np.eye(len(video))[procedure]
        for video, procedure in zip(weights, procedures, strict=True)
    )
    return shares / len(weights)


def test_procedure_attention_covers_each_videos_real_clips(videos):
    X, y = videos
    model = CoFInAIRegressor(**FAST, random_state=0).fit(X, y)
    attention = model.procedure_attention(X)
    assert [a.shape for a in attention] == [(model.n_procedures, len(x)) for x in X]
    for rows in attention:
        np.testing.assert_allclose(rows.sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="temporal_fusion=False"):
        model.set_params(temporal_fusion=False).fit(X, y).procedure_attention(X)


@pytest.mark.slow
def test_query_diversity_sends_the_queries_to_different_planted_procedures():
    X, y, procedures, _ = make_aqa_sequences(n_videos=150, return_procedures=True,
                                             random_state=0)  # fmt: skip
    diverse = CoFInAIRegressor(random_state=0).fit(X, y)
    alike = CoFInAIRegressor(lambda_diversity=0.0, random_state=0).fit(X, y)
    diverse_shares = _attention_shares(diverse, X, procedures)
    alike_shares = _attention_shares(alike, X, procedures)
    # With the term, the queries favour different procedures and give them most of their
    # attention; without it, every query spreads its attention about evenly (1/5 each).
    assert len(set(diverse_shares.argmax(axis=1))) >= 4
    assert diverse_shares.max(axis=1).mean() > 0.5
    assert alike_shares.max(axis=1).mean() < 0.3


@pytest.mark.slow
def test_gradient_clipping_keeps_a_hard_draw_from_collapsing():
    # On this draw the unclipped head takes a few huge steps early on (L_S is in sub-grade
    # units) and ends up predicting one score for every video; clipped, it ranks the videos.
    X, y = make_aqa_sequences(n_videos=200, random_state=7)
    clipped = CoFInAIRegressor(random_state=7).fit(X[:150], y[:150])
    unclipped = CoFInAIRegressor(max_grad_norm=None, random_state=7).fit(X[:150], y[:150])
    assert unclipped.predict(X[150:]).std() < 0.01
    assert clipped.predict(X[150:]).std() > 0.5
    assert clipped.score(X[150:], y[150:]) > 0.45
    assert clipped.history_[-1, "train_loss"] < 0.5 * unclipped.history_[-1, "train_loss"]


def test_the_learning_rate_follows_the_cosine_schedule(videos):
    X, y = videos
    model = CoFInAIRegressor(**{**FAST, "max_epochs": 4}, random_state=0).fit(X, y)
    expected = [0.01 * cosine_factor(epoch, n_epochs=4, final=0.01) for epoch in range(4)]
    np.testing.assert_allclose(model.history_[:, "event_lr"], expected, rtol=1e-6)
    assert cosine_factor(4, n_epochs=4, final=0.01) == pytest.approx(0.01)
    constant = model.set_params(lr_schedule=None).fit(X, y)
    assert "event_lr" not in constant.history_[-1]
    warm = CoFInAIRegressor(**{**FAST, "max_epochs": 4}, warm_start=True, random_state=0)
    warm.fit(X, y).fit(X, y)
    np.testing.assert_allclose(warm.history_[4:, "event_lr"], expected, rtol=1e-6)


def test_score_range_is_respected_and_scores_outside_are_clipped(videos):
    X, y = videos
    model = CoFInAIRegressor(**FAST, score_range=(2.0, 8.0), random_state=0).fit(X, y)
    assert model.score_range_ == (2.0, 8.0)
    assert model.predict(X).min() >= 2.0 and model.predict(X).max() <= 8.0
    target = model._encode_target(None, np.array([-1.0, 2.0, 8.0, 11.0]))
    np.testing.assert_array_equal(target[:, 1:], [[0, 0], [0, 0], [2, 2], [2, 2]])


def test_score_is_srcc(videos, fitted):
    X, y = videos
    assert fitted.score(X, y) == pytest.approx(srcc(y, fitted.predict(X)))


def test_validation_fraction_stops_early(videos):
    X, y = videos
    model = CoFInAIRegressor(
        **{**FAST, "max_epochs": 200}, validation_fraction=0.25, n_iter_no_change=2,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert model.n_iter_ < 200
    assert np.isfinite(model.history_[:, "valid_loss"]).all()


def _design_grades(score, lo, hi, n_grades, n_subgrades):
    """DESIGN §5 literally: g = min(floor((s-lo)/S_C), G-1), f = min(floor(...), G'-1)."""
    coarse = (hi - lo) / n_grades
    fine = coarse / n_subgrades
    grade = min(math.floor((score - lo) / coarse), n_grades - 1)
    return grade, min(math.floor((score - lo - grade * coarse) / fine), n_subgrades - 1)


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-100, 100),
    width=st.floats(0.01, 100),
    fraction=st.floats(0, 1),
    n_grades=st.integers(2, 10),
    n_subgrades=st.integers(2, 10),
)
def test_score_decomposition(lo, width, fraction, n_grades, n_subgrades):
    hi = lo + width
    score = lo + fraction * width
    grade, subgrade = (int(i) for i in grade_indices((score - lo) / width, n_grades, n_subgrades))
    assert 0 <= grade < n_grades and 0 <= subgrade < n_subgrades
    if fraction == 1:
        assert (grade, subgrade) == (n_grades - 1, n_subgrades - 1)
    # The sub-grade's interval holds the score...
    start = lo + (grade * n_subgrades + subgrade) * width / (n_grades * n_subgrades)
    tolerance = 1e-9 * max(1, abs(lo), width)
    assert start - tolerance <= score <= start + width / (n_grades * n_subgrades) + tolerance
    # ...and away from interval boundaries, where rounding may go either way, the design's
    # formula gives the same indices.
    position = fraction * n_grades * n_subgrades
    assume(min(position % 1, 1 - position % 1) > 1e-6 or fraction == 1)
    assert (grade, subgrade) == _design_grades(score, lo, hi, n_grades, n_subgrades)


def test_score_decomposition_boundaries():
    unit = np.array([0.0, 0.25, 0.5 - 1e-12, 0.5, 0.999, 1.0])
    grades, subgrades = grade_indices(unit, 2, 4)
    np.testing.assert_array_equal(grades, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(subgrades, [0, 2, 3, 0, 3, 3])


@settings(max_examples=50, deadline=None)
@given(
    n_grades=st.integers(2, 6),
    n_subgrades=st.integers(0, 6),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.1, 50),
)
def test_expected_score_is_differentiable_and_in_range(n_grades, n_subgrades, seed, scale):
    generator = torch.Generator().manual_seed(seed)
    grade_logits = (scale * torch.randn(4, n_grades, generator=generator)).requires_grad_()
    subgrade_logits = (scale * torch.randn(4, n_subgrades, generator=generator)).requires_grad_()
    unit = expected_unit_score(grade_logits.softmax(1), subgrade_logits.softmax(1))
    levels = n_grades * max(n_subgrades, 1)
    assert ((unit >= 0.5 / levels - 1e-6) & (unit <= 1 - 0.5 / levels + 1e-6)).all()
    unit.sum().backward()
    assert torch.isfinite(grade_logits.grad).all()
    if n_subgrades:
        assert torch.isfinite(subgrade_logits.grad).all()


def test_expected_score_of_certain_predictions():
    grade = torch.tensor([[0.0, 1.0, 0.0]])
    subgrade = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    # Grade 1 of 3, last of 4 sub-grades: the centre of bin 7 of 12.
    assert expected_unit_score(grade, subgrade).item() == pytest.approx(7.5 / 12)
    assert expected_unit_score(grade, subgrade[:, :0]).item() == pytest.approx(1.5 / 3)


def _arc(angles):
    return torch.stack([torch.cos(angles), torch.sin(angles), torch.zeros_like(angles)], dim=1)


def testgraph_regulariser_vanishes_when_angles_follow_grade_distance():
    ordered = _arc(torch.arange(5.0) * 0.7)  # angle between i and j: 0.7 |i - j| <= 2.8 < pi
    assert graph_regulariser(3.0 * ordered).item() == pytest.approx(0, abs=1e-5)
    shuffled = ordered[[0, 3, 1, 4, 2]]
    assert graph_regulariser(shuffled).item() > 0.05
    assert graph_regulariser(torch.randn(2, 4)).item() == pytest.approx(0, abs=1e-6)


def testgraph_regulariser_orders_prototypes_by_gradient_descent():
    prototypes = torch.randn(4, 8, generator=torch.Generator().manual_seed(0), requires_grad=True)
    optimizer = torch.optim.Adam([prototypes], lr=0.05)
    for _ in range(300):
        optimizer.zero_grad()
        graph_regulariser(prototypes).backward()
        optimizer.step()
    unit = torch.nn.functional.normalize(prototypes.detach(), dim=1)
    angles = torch.arccos((unit @ unit.T).clamp(-1, 1))
    assert graph_regulariser(prototypes).item() < 1e-3
    assert angles[0, 1] < angles[0, 2] < angles[0, 3] and angles[3, 2] < angles[3, 1]


def testgraph_regulariser_has_finite_gradients_for_identical_prototypes():
    prototypes = torch.ones(3, 4, requires_grad=True)
    graph_regulariser(prototypes).backward()
    assert torch.isfinite(prototypes.grad).all()


@settings(max_examples=50, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 9), min_size=1, max_size=5),
    crop=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def testrandom_crop_keeps_a_run_of_real_clips(lengths, crop, seed):
    total = max(lengths)
    clips = torch.zeros(len(lengths), total, 1)
    clips[:, :, 0] = torch.arange(1.0, total + 1)  # clip t holds t + 1
    mask = torch.arange(total) < torch.tensor(lengths)[:, None]
    torch.manual_seed(seed)
    cropped, kept = random_crop(clips * mask.unsqueeze(2), mask, crop)
    for row, length in enumerate(lengths):
        values = cropped[row, kept[row], 0].int().tolist()
        assert len(values) == min(crop, length)
        assert values == list(range(values[0], values[0] + len(values)))
        assert 1 <= values[0] and values[-1] <= length
        assert (cropped[row, ~kept[row]] == 0).all()


def test_beats_ridge_on_mean_pooled_features():
    # Procedures are worth different amounts and show quality along one shared direction with
    # procedure-dependent sign, so the clip average cannot tell the score (see
    # make_aqa_sequences); attending to the procedures can.
    X, y = make_aqa_sequences(n_videos=300, n_features=32, random_state=0)
    X_train, X_test, y_train, y_test = X[:200], X[200:], y[:200], y[200:]
    pooled = np.stack([x.mean(axis=0) for x in X])
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(pooled[:200], y_train)
    ridge_srcc = srcc(y_test, ridge.predict(pooled[200:]))
    model = CoFInAIRegressor(
        d_procedure=32, d_score=16, dropout=0.5, max_epochs=40, lr=3e-3, random_state=0
    ).fit(X_train, y_train)
    assert model.score(X_test, y_test) > ridge_srcc + 0.2
