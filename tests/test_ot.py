"""Tests for ncestimators.ot: Sinkhorn plans (POT as oracle) and assignments (brute force)."""

# SPDX-License-Identifier: BSD-3-Clause

import itertools
from unittest import mock

import numpy as np
import ot
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import ncestimators.ot as nc_ot
from ncestimators.ot import assign, sinkhorn

METHODS = ["log", "scaling"]


@st.composite
def problems(draw, *, batched=False, max_rows=10, max_cols=6, scale=1.0):
    """Scores in [-scale, scale] with random positive marginals of total mass 1."""
    n_rows = draw(st.integers(1, max_rows))
    n_cols = draw(st.integers(1, max_cols))
    batch = (draw(st.integers(1, 3)),) if batched else ()
    scores = draw(arrays(np.float64, batch + (n_rows, n_cols), elements=st.floats(-scale, scale)))
    weights = st.floats(0.05, 1.0)
    a = draw(arrays(np.float64, batch + (n_rows,), elements=weights))
    b = draw(arrays(np.float64, batch + (n_cols,), elements=weights))
    return scores, a / a.sum(-1, keepdims=True), b / b.sum(-1, keepdims=True)


def batched_path(one_by_one):
    """Force the CPU loop over problems, or the batched tensor path that GPUs take."""
    return mock.patch.object(nc_ot, "_solve_one_by_one", lambda scores: one_by_one)


def plan_of(scores, **kwargs):
    return sinkhorn(torch.as_tensor(scores), **kwargs).numpy()


def pot_plan(scores, a, b, eps, n_iter, prior=None, method="sinkhorn", stop=0.0):
    cost = -scores if prior is None else -scores - np.log(prior) / eps
    return ot.sinkhorn(
        a, b, cost, 1.0 / eps, method=method, numItermax=n_iter, stopThr=stop, warn=False
    )


def dominated_scores(n_rows, n_cols, seed, scale=10.0):
    """Scores in [-scale, scale] whose row 0 sits at the bottom of every column."""
    scores = np.random.default_rng(seed).uniform(-scale, scale, (n_rows, n_cols))
    scores[0] = -scale
    scores[1:, 0] = scale
    return scores


# --- Sinkhorn: agreement with POT ------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(
    problem=problems(),
    eps=st.floats(0.1, 10.0),
    n_iter=st.integers(1, 8),
    method=st.sampled_from(METHODS),
    with_prior=st.booleans(),
)
def test_equals_pot_at_fixed_iterations(problem, eps, n_iter, method, with_prior):
    # POT also updates columns first and rows last from u = 1, so the iterates coincide on
    # the same problem (not on its transpose).
    scores, a, b = problem
    prior = np.exp(-(scores[::-1, ::-1] ** 2)) if with_prior else None
    plan = plan_of(
        scores, row_marginal=a, col_marginal=b, prior=prior, eps=eps, n_iter=n_iter, method=method
    )
    expected = pot_plan(scores, a, b, eps, n_iter, prior=prior)
    np.testing.assert_allclose(plan, expected, rtol=1e-9, atol=1e-15)


@settings(deadline=None, max_examples=30)
@given(problem=problems(), eps=st.floats(0.05, 2.0), method=st.sampled_from(METHODS))
def test_equals_pot_at_convergence(problem, eps, method):
    scores, a, b = problem
    plan = plan_of(scores, row_marginal=a, col_marginal=b, eps=eps, n_iter=400, method=method)
    expected = pot_plan(scores, a, b, eps, n_iter=10_000, stop=1e-14)
    np.testing.assert_allclose(plan, expected, rtol=1e-7, atol=1e-12)


@pytest.fixture
def kernel_builds(monkeypatch):
    """Axis of every kernel built from the scores: the first, then each log-domain update."""
    builds = []
    shifted_kernel = nc_ot._shifted_kernel

    def spy(*args, dim, **kwargs):
        builds.append("columns" if dim == -2 else "rows")
        return shifted_kernel(*args, dim=dim, **kwargs)

    monkeypatch.setattr(nc_ot, "_shifted_kernel", spy)
    return builds


@pytest.mark.parametrize("n_iter", [1, 3, 20])
@pytest.mark.parametrize("eps", [20.0, 200.0])
def test_log_equals_pot_log_far_beyond_float64_exp_range(eps, n_iter, kernel_builds):
    # eps * scores spans +-2000: exp overflows even in float64, the log-domain path must act.
    scores = dominated_scores(12, 5, seed=0, scale=2000.0 / eps)
    a, b = np.full(12, 1 / 12), np.full(5, 1 / 5)
    plan = plan_of(scores, eps=eps, n_iter=n_iter)
    expected = pot_plan(scores, a, b, eps, n_iter, method="sinkhorn_log")
    assert "rows" in kernel_builds
    np.testing.assert_allclose(plan, expected, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(plan.sum(1), a, rtol=1e-12)


@pytest.mark.parametrize("n_iter", [3, 50])
def test_log_in_float32_equals_pot_log_in_float64_at_case_scale(n_iter, kernel_builds):
    # eps * scores spans +-200. Over these seeds the potentials drift far enough for both
    # kinds of log-domain update (rows and columns) to happen.
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n_rows, n_cols = rng.integers(2, 12, size=2)
        scores = rng.uniform(-10.0, 10.0, (n_rows, n_cols))
        a, b = rng.uniform(0.05, 1.0, n_rows), rng.uniform(0.05, 1.0, n_cols)
        a, b = a / a.sum(), b / b.sum()
        plan = sinkhorn(
            torch.tensor(scores, dtype=torch.float32),
            row_marginal=a,
            col_marginal=b,
            eps=20.0,
            n_iter=n_iter,
        )
        expected = pot_plan(scores, a, b, 20.0, n_iter, method="sinkhorn_log")
        np.testing.assert_allclose(plan.numpy(), expected, rtol=1e-3, atol=1e-4 * expected.max())
    assert "rows" in kernel_builds
    if n_iter == 50:
        assert kernel_builds.count("columns") > 40


# --- Sinkhorn: properties --------------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(
    problem=problems(),
    eps=st.floats(0.05, 2.0),
    method=st.sampled_from(METHODS),
)
def test_marginals_match_after_convergence(problem, eps, method):
    # eps * range <= 4 bounds the Birkhoff contraction (research note 6.3), so 400 iterations
    # converge for any marginals.
    scores, a, b = problem
    plan = plan_of(scores, row_marginal=a, col_marginal=b, eps=eps, n_iter=400, method=method)
    np.testing.assert_allclose(plan.sum(-1), a, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(plan.sum(-2), b, rtol=1e-9, atol=1e-12)
    assert (plan >= 0).all()


@settings(deadline=None, max_examples=40)
@given(
    problem=problems(batched=True),
    eps=st.floats(0.05, 2.0),
    method=st.sampled_from(METHODS),
    one_by_one=st.booleans(),
)
def test_batched_marginals_match_after_convergence(problem, eps, method, one_by_one):
    scores, a, b = problem
    with batched_path(one_by_one):
        plan = plan_of(scores, row_marginal=a, col_marginal=b, eps=eps, n_iter=400, method=method)
    np.testing.assert_allclose(plan.sum(-1), a, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(plan.sum(-2), b, rtol=1e-9, atol=1e-12)


@settings(deadline=None, max_examples=60)
@given(
    problem=problems(scale=5.0),
    eps=st.floats(0.1, 20.0),
    n_iter=st.integers(1, 5),
    method=st.sampled_from(METHODS),
)
def test_rows_sum_exactly_after_any_iteration_count(problem, eps, n_iter, method):
    scores, a, b = problem
    plan = plan_of(scores, row_marginal=a, col_marginal=b, eps=eps, n_iter=n_iter, method=method)
    np.testing.assert_allclose(plan.sum(1), a, rtol=1e-12)


def test_default_marginals_are_equipartition():
    scores = np.random.default_rng(0).normal(size=(12, 4))
    plan = plan_of(scores, n_iter=200)
    np.testing.assert_allclose(plan.sum(1), np.full(12, 1 / 12), rtol=1e-12)
    np.testing.assert_allclose(plan.sum(0), np.full(4, 1 / 4), rtol=1e-9)


@settings(deadline=None, max_examples=50)
@given(
    problem=problems(),
    shift=st.floats(-50.0, 50.0),
    eps=st.floats(0.1, 2.0),
    n_iter=st.integers(1, 5),
    method=st.sampled_from(METHODS),
)
def test_invariant_to_column_shifts_at_any_iteration_count(problem, shift, eps, n_iter, method):
    # The first update rescales columns, which absorbs a per-column shift exactly.
    scores, a, b = problem
    shifted = scores + shift * np.linspace(-1, 1, len(b))
    kwargs = dict(row_marginal=a, col_marginal=b, eps=eps, n_iter=n_iter, method=method)
    np.testing.assert_allclose(
        plan_of(shifted, **kwargs), plan_of(scores, **kwargs), rtol=1e-8, atol=1e-15
    )


@settings(deadline=None, max_examples=40)
@given(
    problem=problems(),
    shift=st.floats(-50.0, 50.0),
    eps=st.floats(0.05, 2.0),
    method=st.sampled_from(METHODS),
)
def test_invariant_to_row_shifts_at_convergence(problem, shift, eps, method):
    # Rows are rescaled second, so a per-row shift changes the plan after a fixed number of
    # iterations (as in POT and SwAV) but not the converged plan.
    scores, a, b = problem
    shifted = scores + shift * np.linspace(-1, 1, len(a))[:, None]
    kwargs = dict(row_marginal=a, col_marginal=b, eps=eps, n_iter=400, method=method)
    np.testing.assert_allclose(
        plan_of(shifted, **kwargs), plan_of(scores, **kwargs), rtol=1e-7, atol=1e-12
    )


@settings(deadline=None, max_examples=50)
@given(
    problem=problems(),
    seed=st.integers(0, 2**32 - 1),
    eps=st.floats(0.1, 10.0),
    n_iter=st.integers(1, 5),
    method=st.sampled_from(METHODS),
)
def test_equivariant_to_permutations(problem, seed, eps, n_iter, method):
    scores, a, b = problem
    rng = np.random.default_rng(seed)
    rows, cols = rng.permutation(len(a)), rng.permutation(len(b))
    kwargs = dict(eps=eps, n_iter=n_iter, method=method)
    plan = plan_of(scores, row_marginal=a, col_marginal=b, **kwargs)
    permuted = plan_of(scores[rows][:, cols], row_marginal=a[rows], col_marginal=b[cols], **kwargs)
    np.testing.assert_allclose(permuted, plan[rows][:, cols], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_prior_of_ones_equals_no_prior(method):
    scores = np.random.default_rng(0).normal(size=(9, 4))
    np.testing.assert_allclose(
        plan_of(scores, prior=np.ones((9, 4)), eps=3.0, method=method),
        plan_of(scores, eps=3.0, method=method),
        rtol=1e-14,
    )


@settings(deadline=None, max_examples=50)
@given(
    problem=problems(),
    prior_seed=st.integers(0, 2**32 - 1),
    eps=st.floats(0.1, 10.0),
    n_iter=st.integers(1, 5),
    method=st.sampled_from(METHODS),
)
def test_prior_equals_log_prior_over_eps_added_to_scores(problem, prior_seed, eps, n_iter, method):
    scores, a, b = problem
    prior = np.random.default_rng(prior_seed).uniform(0.01, 1.0, scores.shape)
    kwargs = dict(row_marginal=a, col_marginal=b, eps=eps, n_iter=n_iter, method=method)
    np.testing.assert_allclose(
        plan_of(scores, prior=prior, **kwargs),
        plan_of(scores + np.log(prior) / eps, **kwargs),
        rtol=1e-9,
        atol=1e-15,
    )


@pytest.mark.parametrize("method", METHODS)
def test_prior_scaling_one_column_equals_shifting_its_scores(method):
    # A column factor is absorbed by the column update, so it leaves the plan unchanged; the
    # per-entry prior of the previous test is the case that changes it.
    scores = np.random.default_rng(0).normal(size=(8, 3))
    prior = np.ones((8, 3))
    prior[:, 1] = 7.0
    shifted = scores.copy()
    shifted[:, 1] += np.log(7.0) / 2.0
    np.testing.assert_allclose(
        plan_of(scores, prior=prior, eps=2.0, method=method),
        plan_of(shifted, eps=2.0, method=method),
        rtol=1e-12,
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(4,), (8, 1), (8, 4), (2, 8, 4)])
def test_prior_broadcasts_to_scores(method, shape):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 8, 4))
    prior = rng.uniform(0.1, 1.0, shape)
    np.testing.assert_allclose(
        plan_of(scores, prior=prior, eps=2.0, method=method),
        plan_of(scores + np.log(np.broadcast_to(prior, scores.shape)) / 2.0, eps=2.0),
        rtol=1e-10,
    )


@pytest.mark.parametrize("method", METHODS)
def test_prior_zeros_give_exact_zeros(method):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(10, 4))
    prior = rng.uniform(0.1, 1.0, (10, 4))
    prior[np.arange(10), np.arange(10) % 4] = 0.0
    plan = plan_of(scores, prior=prior, eps=2.0, n_iter=300, method=method)
    assert (plan[prior == 0] == 0).all()
    np.testing.assert_allclose(plan.sum(1), np.full(10, 0.1), rtol=1e-12)
    np.testing.assert_allclose(plan.sum(0), np.full(4, 0.25), rtol=1e-9)


@settings(deadline=None, max_examples=50)
@given(problem=problems(scale=5.0), eps=st.floats(0.1, 50.0), n_iter=st.integers(1, 20))
def test_log_and_scaling_agree_in_float64(problem, eps, n_iter):
    scores, a, b = problem
    kwargs = dict(row_marginal=a, col_marginal=b, eps=eps, n_iter=n_iter)
    np.testing.assert_allclose(
        plan_of(scores, method="log", **kwargs),
        plan_of(scores, method="scaling", **kwargs),
        rtol=1e-10,
        atol=1e-15,
    )


@settings(deadline=None, max_examples=30)
@given(
    n_rows=st.integers(2, 40),
    n_cols=st.integers(2, 10),
    seed=st.integers(0, 2**32 - 1),
    n_iter=st.sampled_from([1, 3, 10]),
    with_prior=st.booleans(),
)
def test_log_is_float32_safe_at_case_scale(n_rows, n_cols, seed, n_iter, with_prior):
    # CASE: eps = 20 on cosine * 10 logits, so eps * scores spans +-200; float32 exp overflows
    # at 88. Row 0 is 400 below every column maximum, so its kernel row underflows too.
    scores = dominated_scores(n_rows, n_cols, seed)
    prior = None
    if with_prior:
        prior = np.random.default_rng(seed).uniform(0.1, 1.0, scores.shape)
        prior[1:, 1] = 0.0
    kwargs = dict(prior=prior, eps=20.0, n_iter=n_iter)
    plan = sinkhorn(torch.tensor(scores, dtype=torch.float32), **kwargs)
    reference = plan_of(scores, method="scaling", **kwargs)  # float64 still has the range
    assert plan.dtype == torch.float32
    assert torch.isfinite(plan).all()
    np.testing.assert_allclose(plan.sum(1).numpy(), np.full(n_rows, 1 / n_rows), rtol=1e-5)
    np.testing.assert_allclose(plan.numpy(), reference, rtol=1e-3, atol=1e-5 * reference.max())
    if with_prior:
        assert (plan[1:, 1] == 0).all()


def test_scaling_raises_instead_of_returning_nan_when_float32_underflows():
    scores = torch.tensor(dominated_scores(6, 3, seed=0), dtype=torch.float32)
    with pytest.raises(ValueError, match="method='log'"):
        sinkhorn(scores, eps=20.0, method="scaling")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zero_marginal_entries_give_empty_lines(dtype, kernel_builds):
    # Strong scores make the log method absorb potentials, including log(0) = -inf.
    scores = dominated_scores(8, 4, seed=1)
    a = np.array([0.0, 0, 1, 1, 1, 1, 1, 1])
    b = np.array([0.0, 2, 2, 2])
    plan = sinkhorn(
        torch.tensor(scores, dtype=dtype), row_marginal=a, col_marginal=b, eps=20.0, n_iter=20
    )
    with np.errstate(divide="ignore"):
        expected = pot_plan(scores, a, b, eps=20.0, n_iter=20, method="sinkhorn_log")
    assert torch.isfinite(plan).all()
    assert (plan[:2] == 0).all() and (plan[:, 0] == 0).all()
    np.testing.assert_allclose(plan.sum(1).numpy(), a, rtol=1e-6)
    np.testing.assert_allclose(plan.numpy(), expected, rtol=1e-3, atol=1e-6)
    # Empty lines must not force a log-domain update on every half-iteration.
    assert len(kernel_builds) <= 3


@settings(deadline=None, max_examples=40)
@given(
    problem=problems(batched=True),
    shared_marginals=st.booleans(),
    eps=st.floats(0.1, 10.0),
    n_iter=st.integers(1, 5),
    method=st.sampled_from(METHODS),
    one_by_one=st.booleans(),
)
def test_batched_equals_loop_over_problems(
    problem, shared_marginals, eps, n_iter, method, one_by_one
):
    scores, a, b = problem
    if shared_marginals:
        a, b = a[0], b[0]
    prior = np.exp(-(scores**2))
    kwargs = dict(eps=eps, n_iter=n_iter, method=method)
    with batched_path(one_by_one):
        batched = plan_of(scores, row_marginal=a, col_marginal=b, prior=prior, **kwargs)
    for i, one in enumerate(scores):
        looped = plan_of(
            one,
            row_marginal=a if shared_marginals else a[i],
            col_marginal=b if shared_marginals else b[i],
            prior=prior[i],
            **kwargs,
        )
        np.testing.assert_allclose(batched[i], looped, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("one_by_one", [True, False])
def test_batched_float32_at_case_scale_equals_loop(one_by_one, kernel_builds):
    scores = np.stack([dominated_scores(16, 4, seed) for seed in range(3)])
    scores[1] *= 0.1  # a mild problem next to two extreme ones
    scores = torch.tensor(scores, dtype=torch.float32)
    with batched_path(one_by_one):
        batched = sinkhorn(scores, eps=20.0)
    assert "rows" in kernel_builds
    for one, plan in zip(scores, batched, strict=True):
        torch.testing.assert_close(plan, sinkhorn(one, eps=20.0), rtol=1e-5, atol=1e-9)


# --- Sinkhorn: autograd, dtype and device ----------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_not_differentiable_by_default(method):
    scores = torch.randn(6, 3, requires_grad=True)
    plan = sinkhorn(scores, method=method)
    assert not plan.requires_grad
    assert plan.grad_fn is None


@pytest.mark.parametrize("method", METHODS)
def test_differentiable_gradient_matches_finite_differences(method):
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(5, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    prior = torch.rand(5, 3, dtype=torch.float64, generator=generator).add(0.1).requires_grad_()
    weights = torch.randn(5, 3, dtype=torch.float64, generator=generator)

    def loss(s, p):
        plan = sinkhorn(s, prior=p, eps=2.0, n_iter=4, method=method, differentiable=True)
        return (plan * weights).sum()

    assert torch.autograd.gradcheck(loss, (scores, prior))
    loss(scores, prior).backward()
    assert scores.grad.abs().sum() > 0 and prior.grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
        ),
    ],
)
def test_keeps_dtype_and_device(dtype, device):
    scores = torch.randn(2, 7, 3, dtype=dtype, device=device)
    plan = sinkhorn(scores, row_marginal=np.full(7, 1 / 7), prior=np.ones(3))
    assert plan.dtype == dtype
    assert plan.device == scores.device
    assert plan.shape == scores.shape


@pytest.mark.parametrize(
    ("scores", "dtype"),
    [
        (np.zeros((3, 2)), torch.float64),
        (np.zeros((3, 2), dtype=np.float32), torch.float32),
        ([[1, 2], [3, 4]], torch.get_default_dtype()),
        (torch.zeros(3, 2, dtype=torch.int64), torch.get_default_dtype()),
    ],
)
def test_converts_array_likes_to_float_tensors(scores, dtype):
    plan = sinkhorn(scores)
    assert isinstance(plan, torch.Tensor)
    assert plan.dtype == dtype


# --- Sinkhorn: validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(scores=np.zeros(3)), "2-D"),
        (dict(scores=np.zeros((1, 2, 3, 4))), "2-D"),
        (dict(scores=np.zeros((0, 3))), "empty"),
        (dict(scores=[[0.0, np.nan]]), "NaN"),
        (dict(scores=[[0.0, np.inf]]), "NaN or infinity"),
        (dict(scores=torch.zeros(2, 2, dtype=torch.float16)), "float32 or torch.float64"),
        (dict(row_marginal=[0.5, -0.25, 0.75]), "row_marginal must be finite and non-negative"),
        (dict(col_marginal=[np.nan, 1.0]), "col_marginal must be finite and non-negative"),
        (dict(row_marginal=[0.5, 0.5]), r"row_marginal must have shape \(3,\)"),
        (dict(row_marginal=np.full((2, 3), 1 / 3)), r"row_marginal must have shape \(3,\)"),
        (dict(col_marginal=[0.5, 0.6]), "same total mass"),
        (dict(row_marginal=[0.0, 0, 0], col_marginal=[0.0, 0]), "positive total mass"),
        (dict(prior=-np.ones((3, 2))), "prior must be finite and non-negative"),
        (dict(prior=np.full((3, 2), np.nan)), "prior must be finite and non-negative"),
        (dict(prior=np.ones((2, 2))), "does not broadcast"),
        (dict(prior=[[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]), "prior has a row or column"),
        (
            dict(prior=[[1.0, 1.0], [0.0, 1.0], [0.0, 1.0]], row_marginal=[0.0, 0.5, 0.5]),
            "prior has a row or column",
        ),
        (dict(eps=0.0), "eps must be a positive"),
        (dict(eps=-1.0), "eps must be a positive"),
        (dict(eps=np.inf), "eps must be a positive"),
        (dict(eps="1"), "eps must be a positive"),
        (dict(eps=True), "eps must be a positive"),
        (dict(n_iter=0), "n_iter must be an integer >= 1"),
        (dict(n_iter=2.0), "n_iter must be an integer >= 1"),
        (dict(n_iter=True), "n_iter must be an integer >= 1"),
        (dict(method="sinkhorn"), "Unknown method 'sinkhorn'. Valid methods are 'log', 'scaling'"),
        (dict(method=None), "Unknown method None"),
    ],
)
def test_invalid_input_raises_value_error(kwargs, match):
    kwargs = {"scores": np.zeros((3, 2)), **kwargs}
    with pytest.raises(ValueError, match=match):
        sinkhorn(**kwargs)


def test_batched_marginal_must_match_number_of_problems():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        sinkhorn(np.zeros((2, 3, 2)), row_marginal=np.full((4, 3), 1 / 3))


# --- assign ----------------------------------------------------------------------------------


def brute_force_best(similarity):
    n_rows, n_cols = similarity.shape
    totals = {
        columns: similarity[np.arange(n_rows), columns].sum()
        for columns in itertools.permutations(range(n_cols), n_rows)
    }
    best = max(totals.values())
    return best, [columns for columns, total in totals.items() if total >= best - 1e-9]


@settings(deadline=None, max_examples=100)
@given(
    similarity=st.one_of(
        st.integers(1, 6).flatmap(
            lambda n: arrays(np.float64, (n, n), elements=st.floats(-10, 10))
        ),
        st.tuples(st.integers(1, 3), st.integers(3, 6)).flatmap(
            lambda shape: arrays(np.float64, shape, elements=st.floats(-10, 10))
        ),
    )
)
def test_assign_equals_brute_force(similarity):
    columns = assign(similarity)
    best, optima = brute_force_best(similarity)
    assert columns.shape == (similarity.shape[0],)
    assert np.issubdtype(columns.dtype, np.integer)
    assert len(set(columns.tolist())) == len(columns)
    assert similarity[np.arange(len(columns)), columns].sum() == pytest.approx(best, abs=1e-9)
    if len(optima) == 1:
        assert tuple(columns) == optima[0]


def test_assign_accepts_torch_tensors():
    similarity = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.7, 0.0]], requires_grad=True)
    np.testing.assert_array_equal(assign(similarity), [1, 0])


@pytest.mark.parametrize(
    ("similarity", "match"),
    [
        ([[0.0, np.nan], [1.0, 0.0]], "NaN"),
        ([[0.0, np.inf], [1.0, 0.0]], "NaN or infinity"),
        (np.zeros((3, 2)), r"more rows \(3\) than columns \(2\).*similarity\.T"),
        (np.zeros(3), "2-D"),
    ],
)
def test_assign_invalid_input_raises_value_error(similarity, match):
    with pytest.raises(ValueError, match=match):
        assign(similarity)
