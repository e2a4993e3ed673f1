"""Tests for ncestimators.geometry: simplex ETFs, uniform prototypes and the NC1-NC4 metrics."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ncestimators.geometry import (
    _uniformity_loss_and_gradient,
    class_mean_cosines,
    neural_collapse_metrics,
    simplex_etf,
    uniform_prototypes,
)

METRIC_NAMES = [
    "nc1",
    "nc2_equiangularity",
    "nc2_maxangle",
    "nc3_self_duality",
    "nc4_ncc_mismatch",
]


def off_diagonal_cosines(prototypes):
    cosines = prototypes.T @ prototypes
    return cosines[~np.eye(len(cosines), dtype=bool)]


def max_cosine(prototypes):
    return off_diagonal_cosines(prototypes).max()


def assert_global_state_untouched(make):
    """Call ``make()`` and check that NumPy's and torch's global random states are unchanged."""
    np.random.seed(1234)
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    make()
    assert all(
        np.array_equal(a, b) for a, b in zip(numpy_state, np.random.get_state(), strict=True)
    )
    assert torch.equal(torch_state, torch.get_rng_state())


@st.composite
def etf_sizes(draw):
    n_classes = draw(st.integers(2, 32))
    return n_classes, draw(st.integers(n_classes - 1, n_classes + 16))


# --- simplex_etf ------------------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(sizes=etf_sizes(), seed=st.integers(0, 2**31 - 1))
def test_etf_gram_norms_and_centring(sizes, seed):
    n_classes, dim = sizes
    etf = simplex_etf(n_classes, dim, random_state=seed)
    assert etf.shape == (dim, n_classes)
    assert etf.dtype == np.float64
    centring = np.eye(n_classes) - np.ones((n_classes, n_classes)) / n_classes
    np.testing.assert_allclose(etf.T @ etf, n_classes / (n_classes - 1) * centring, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(etf, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(etf.sum(axis=1), 0.0, atol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3, 5, 17])
def test_etf_in_minimal_dimension(n_classes):
    etf = simplex_etf(n_classes, n_classes - 1, random_state=0)
    assert etf.shape == (n_classes - 1, n_classes)
    cosines = off_diagonal_cosines(etf)
    np.testing.assert_allclose(cosines, -1 / (n_classes - 1), atol=1e-12)
    np.testing.assert_allclose(etf.sum(axis=1), 0.0, atol=1e-12)
    if n_classes == 2:
        np.testing.assert_allclose(np.abs(etf), 1.0, atol=1e-12)


def test_etf_seeds():
    first = simplex_etf(5, 8, random_state=0)
    np.testing.assert_array_equal(first, simplex_etf(5, 8, random_state=0))
    np.testing.assert_array_equal(first, simplex_etf(5, 8, random_state=np.random.RandomState(0)))
    other = simplex_etf(5, 8, random_state=1)
    assert not np.allclose(first, other)
    # Same Gram matrix, different rotation.
    np.testing.assert_allclose(first.T @ first, other.T @ other, atol=1e-12)


def test_etf_none_draws_fresh_rotations_without_global_state():
    assert_global_state_untouched(lambda: simplex_etf(6, 10))
    assert not np.allclose(simplex_etf(6, 10), simplex_etf(6, 10))


def test_etf_too_few_dimensions_points_to_uniform_prototypes():
    with pytest.raises(ValueError, match="uniform_prototypes"):
        simplex_etf(5, 3)


@pytest.mark.parametrize(
    "n_classes, dim, error",
    [
        (1, 3, ValueError),
        (0, 3, ValueError),
        (2.5, 3, TypeError),
        ("3", 3, TypeError),
        (3, 0, ValueError),
        (3, 2.0, TypeError),
    ],
)
def test_etf_bad_sizes(n_classes, dim, error):
    with pytest.raises(error):
        simplex_etf(n_classes, dim)


def test_etf_accepts_numpy_integers():
    etf = simplex_etf(np.int64(4), np.int32(3), random_state=0)
    assert etf.shape == (3, 4)


# --- uniform_prototypes -----------------------------------------------------------------------


@settings(deadline=None, max_examples=20)
@given(n_classes=st.integers(2, 40), dim=st.integers(2, 8), seed=st.integers(0, 1000))
def test_prototypes_unit_norm_any_regime(n_classes, dim, seed):
    prototypes = uniform_prototypes(n_classes, dim, random_state=seed, max_iter=50)
    assert prototypes.shape == (dim, n_classes)
    assert prototypes.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=0), 1.0, atol=1e-12)
    # No two prototypes coincide.
    assert max_cosine(prototypes) < 1 - 1e-3


@settings(deadline=None, max_examples=40)
@given(sizes=etf_sizes(), seed=st.integers(0, 1000))
def test_prototypes_are_the_etf_when_it_exists(sizes, seed):
    n_classes, dim = sizes
    prototypes = uniform_prototypes(n_classes, dim, random_state=seed)
    np.testing.assert_allclose(off_diagonal_cosines(prototypes), -1 / (n_classes - 1), atol=1e-10)
    np.testing.assert_array_equal(
        prototypes, simplex_etf(n_classes, dim, random_state=np.random.RandomState(seed))
    )


@st.composite
def cross_polytope_sizes(draw):
    dim = draw(st.integers(2, 40))
    return draw(st.integers(dim + 2, 2 * dim)), dim


@settings(deadline=None, max_examples=40)
@given(sizes=cross_polytope_sizes(), seed=st.integers(0, 1000))
def test_prototypes_reach_rankin_bound(sizes, seed):
    # More than d + 1 unit vectors always have a non-negative cosine (Rankin); up to 2d reach 0.
    n_classes, dim = sizes
    prototypes = uniform_prototypes(n_classes, dim, random_state=seed)
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=0), 1.0, atol=1e-12)
    assert max_cosine(prototypes) <= 1e-6


@settings(deadline=None, max_examples=30)
@given(n_classes=st.integers(3, 60), seed=st.integers(0, 1000))
def test_prototypes_in_the_plane_are_a_regular_polygon(n_classes, seed):
    prototypes = uniform_prototypes(n_classes, 2, random_state=seed)
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(max_cosine(prototypes), np.cos(2 * np.pi / n_classes), atol=1e-12)
    # Sorted by angle, consecutive vertices are exactly 2 pi / c apart.
    angles = np.sort(np.arctan2(prototypes[1], prototypes[0]))
    gaps = np.diff(np.append(angles, angles[0] + 2 * np.pi))
    np.testing.assert_allclose(gaps, 2 * np.pi / n_classes, atol=1e-10)


@pytest.mark.parametrize(
    "n_classes, dim, bound",
    [
        # The DL2PA recipe (1000 gradient steps at t = 2) stops near 0.65 at (100, 10).
        (100, 10, 0.4),
        (200, 50, 0.1),
    ],
)
def test_optimised_prototypes_beat_the_paper(n_classes, dim, bound):
    prototypes = uniform_prototypes(n_classes, dim, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=0), 1.0, atol=1e-12)
    assert max_cosine(prototypes) < bound


# Tammes problem in R^3: optimal angular separations (degrees) of c points on the sphere.
TAMMES_ANGLES = {8: 74.8585, 9: 70.5288, 12: np.degrees(np.arccos(1 / np.sqrt(5))), 20: 47.4310}


@pytest.mark.parametrize("n_classes", sorted(TAMMES_ANGLES))
def test_optimised_prototypes_solve_known_tammes_cases(n_classes):
    # c = 12 is the icosahedron, max cosine 1 / sqrt(5).
    optimum = np.cos(np.radians(TAMMES_ANGLES[n_classes]))
    for seed in range(2):
        prototypes = uniform_prototypes(n_classes, 3, random_state=seed)
        assert optimum - 1e-4 <= max_cosine(prototypes) <= optimum + 1e-3


@settings(deadline=None, max_examples=30)
@given(
    n_classes=st.integers(3, 30),
    dim=st.integers(2, 6),
    t=st.floats(0.5, 2000),
    seed=st.integers(0, 1000),
)
def test_uniformity_gradient_is_the_derivative_of_the_loss(n_classes, dim, t, seed):
    # The hand-written gradient against autograd on the loss it claims to differentiate.
    params = torch.from_numpy(np.random.default_rng(seed).standard_normal((dim, n_classes)))
    log_n_pairs = np.log(n_classes * (n_classes - 1))
    loss, gradient = _uniformity_loss_and_gradient(params.clone(), t, log_n_pairs)

    leaf = params.clone().requires_grad_()
    prototypes = leaf / leaf.norm(dim=0)
    cosines = (prototypes.T @ prototypes).masked_fill(torch.eye(n_classes, dtype=bool), -torch.inf)
    expected = (torch.logsumexp(2 * t * (cosines - 1), dim=(0, 1)) - log_n_pairs) / (2 * t)
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gradient.numpy(), leaf.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_optimised_prototypes_for_tammes_seven_end_at_the_optimum_or_the_bipyramid():
    # c = 7 has a local minimum, the pentagonal bipyramid (max cosine cos 72 deg); a descent from
    # a random start may land in it, but must never stop between stationary points (a stall
    # criterion ended seed 3 at 0.2193 on AMD EPYC CPUs).
    optimum, bipyramid = np.cos(np.radians([77.8695, 72.0]))
    ends = [max_cosine(uniform_prototypes(7, 3, random_state=seed)) for seed in range(12)]
    solved = np.isclose(ends, optimum, atol=1e-3)
    assert np.all(solved | np.isclose(ends, bipyramid, atol=1e-3)), ends
    assert solved.any(), ends


@pytest.mark.parametrize("n_classes, dim", [(5, 8), (7, 4), (9, 2), (30, 4)])
def test_prototypes_cache_returns_copies(n_classes, dim):
    first = uniform_prototypes(n_classes, dim, random_state=3, max_iter=100)
    expected = first.copy()
    assert first.flags.writeable
    first[:] = 0.0
    second = uniform_prototypes(n_classes, dim, random_state=3, max_iter=100)
    np.testing.assert_array_equal(second, expected)
    assert second is not first


@pytest.mark.parametrize("n_classes, dim", [(5, 8), (7, 4), (9, 2), (30, 4)])
def test_prototypes_seeds(n_classes, dim):
    first = uniform_prototypes(n_classes, dim, random_state=11, max_iter=100)
    np.testing.assert_array_equal(
        first, uniform_prototypes(n_classes, dim, random_state=11, max_iter=100)
    )
    # A RandomState bypasses the cache but draws the same numbers.
    uncached = uniform_prototypes(
        n_classes, dim, random_state=np.random.RandomState(11), max_iter=100
    )
    np.testing.assert_allclose(first, uncached, atol=1e-12)
    other = uniform_prototypes(n_classes, dim, random_state=12, max_iter=100)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("n_classes, dim", [(5, 8), (7, 4), (9, 2), (30, 4)])
def test_prototypes_none_leaves_global_state_alone(n_classes, dim):
    assert_global_state_untouched(lambda: uniform_prototypes(n_classes, dim, max_iter=100))


def test_prototypes_in_one_dimension():
    np.testing.assert_allclose(np.sort(uniform_prototypes(2, 1, random_state=0).ravel()), [-1, 1])
    with pytest.raises(ValueError, match="dim=1"):
        uniform_prototypes(3, 1)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(n_classes=1, dim=3), ValueError),
        (dict(n_classes=2.5, dim=3), TypeError),
        (dict(n_classes="3", dim=3), TypeError),
        (dict(n_classes=3, dim=0), ValueError),
        (dict(n_classes=30, dim=4, max_iter=0), ValueError),
        (dict(n_classes=30, dim=4, max_iter=10.0), TypeError),
    ],
)
def test_prototypes_bad_arguments(kwargs, error):
    with pytest.raises(error):
        uniform_prototypes(**kwargs)


# --- neural_collapse_metrics ------------------------------------------------------------------


def papyan_nc1_nc2(features, labels):
    """NC1 and NC2 straight from Papyan et al.'s definitions, with explicit d x d matrices."""
    classes = sorted(set(labels))
    labels = np.asarray(labels)
    n_samples, n_features = features.shape
    global_mean = features.mean(axis=0)
    within = np.zeros((n_features, n_features))
    between = np.zeros((n_features, n_features))
    centred_means = []
    for label in classes:
        members = features[labels == label]
        mean = members.mean(axis=0)
        for z in members:
            within += np.outer(z - mean, z - mean) / n_samples
        between += np.outer(mean - global_mean, mean - global_mean) / len(classes)
        centred_means.append(mean - global_mean)
    # Sigma_B has rank <= C - 1; its round-off eigenvalues are ~eps^2 and fall below the cut-off.
    nc1 = np.trace(within @ np.linalg.pinv(between, rcond=1e-10, hermitian=True)) / len(classes)
    cosines = [
        a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        for i, a in enumerate(centred_means)
        for j, b in enumerate(centred_means)
        if i != j
    ]
    nc2_maxangle = np.mean(np.abs(np.array(cosines) + 1 / (len(classes) - 1)))
    return nc1, np.std(cosines), nc2_maxangle


def noisy_features(n_classes, dim, n_per_class, noise, seed=0):
    etf = simplex_etf(n_classes, dim, random_state=seed)
    codes = np.repeat(np.arange(n_classes), n_per_class)
    rng = np.random.default_rng(seed)
    return etf, codes, etf.T[codes] + noise * rng.standard_normal((len(codes), dim))


def test_metrics_index_and_dtype():
    etf, codes, features = noisy_features(3, 4, 5, 0.1)
    metrics = neural_collapse_metrics(features, codes, weights=etf.T)
    assert list(metrics.index) == METRIC_NAMES
    assert metrics.dtype == np.float64


@settings(deadline=None, max_examples=30)
@given(
    sizes=etf_sizes(),
    n_per_class=st.integers(1, 5),
    feature_scale=st.floats(0.1, 10.0),
    weight_scale=st.floats(0.1, 10.0),
)
def test_metrics_vanish_at_exact_collapse(sizes, n_per_class, feature_scale, weight_scale):
    n_classes, dim = sizes
    etf, codes, _ = noisy_features(n_classes, dim, n_per_class, 0.0)
    features = feature_scale * etf.T[codes]
    metrics = neural_collapse_metrics(features, codes, weights=weight_scale * etf.T)
    np.testing.assert_allclose(metrics.iloc[:4], 0.0, atol=1e-8)
    assert metrics["nc4_ncc_mismatch"] == 0.0


def test_metrics_without_weights_are_nan_for_the_classifier():
    _, codes, features = noisy_features(4, 6, 5, 0.2)
    metrics = neural_collapse_metrics(features, codes)
    assert list(metrics.index) == METRIC_NAMES
    assert metrics[["nc1", "nc2_equiangularity", "nc2_maxangle"]].notna().all()
    assert metrics[["nc3_self_duality", "nc4_ncc_mismatch"]].isna().all()


def test_metrics_hand_computed_two_classes():
    # Means (-1, 0) and (1, 0); Sigma_W = [[.5, .5], [.5, 1]], Sigma_B = diag(1, 0), so
    # tr(Sigma_W Sigma_B^+) / 2 = 0.25. Two centred means are always antipodal: NC2 = 0.
    features = np.array([[0.0, 1.0], [-2.0, -1.0], [1.0, 1.0], [1.0, -1.0]])
    labels = [0, 0, 1, 1]
    metrics = neural_collapse_metrics(features, labels)
    assert metrics["nc1"] == pytest.approx(0.25, abs=1e-12)
    assert metrics["nc2_equiangularity"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["nc2_maxangle"] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(metrics.iloc[:3], papyan_nc1_nc2(features, labels), atol=1e-12)


def test_metrics_hand_computed_three_classes():
    # Global mean (0, 0); centred means (3, 0), (0, 3), (-3, -3): off-diagonal cosines 0 (twice)
    # and -1/sqrt(2) (four times). Sigma_B = [[6, 3], [3, 6]]; the within-class deviations are
    # all (+-1, 0), so Sigma_W = diag(1, 0) and tr(Sigma_W Sigma_B^-1) = 6 / 27.
    features = np.array(
        [[2.0, 0.0], [4.0, 0.0], [-1.0, 3.0], [1.0, 3.0], [-4.0, -3.0], [-2.0, -3.0]]
    )
    labels = ["a", "a", "b", "b", "c", "c"]
    metrics = neural_collapse_metrics(features, labels)
    sigma_w = np.array([[1.0, 0.0], [0.0, 0.0]])
    sigma_b = np.array([[6.0, 3.0], [3.0, 6.0]])
    nc1 = np.trace(sigma_w @ np.linalg.inv(sigma_b)) / 3
    cosines = np.array([0.0, 0.0] + [-1 / np.sqrt(2)] * 4)
    assert metrics["nc1"] == pytest.approx(2 / 27, rel=1e-12)
    assert metrics["nc1"] == pytest.approx(nc1, rel=1e-12)
    assert metrics["nc2_equiangularity"] == pytest.approx(cosines.std(), rel=1e-12)
    assert metrics["nc2_maxangle"] == pytest.approx(np.abs(cosines + 0.5).mean(), rel=1e-12)


@settings(deadline=None, max_examples=30)
@given(
    n_classes=st.integers(2, 6),
    dim=st.integers(1, 8),
    counts_seed=st.integers(0, 1000),
    noise=st.floats(0.01, 3.0),
    offset=st.floats(-50.0, 50.0),
)
def test_metrics_match_papyan_definitions(n_classes, dim, counts_seed, noise, offset):
    # Random, possibly imbalanced classes, Sigma_B always rank-deficient (rank <= C - 1) and
    # possibly C > d, so the pseudo-inverse matters; the offset moves the features off zero.
    rng = np.random.default_rng(counts_seed)
    counts = rng.integers(1, 6, size=n_classes)
    labels = np.repeat(np.arange(n_classes), counts)
    centres = 2.0 * rng.standard_normal((n_classes, dim)) + offset
    features = centres[labels] + noise * rng.standard_normal((len(labels), dim))
    metrics = neural_collapse_metrics(features, labels)
    expected = papyan_nc1_nc2(features, labels)
    np.testing.assert_allclose(metrics.iloc[:3], expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n_classes, dim", [(2, 2), (10, 512), (100, 512)])
def test_nc1_with_features_far_from_the_origin(n_classes, dim):
    # Like post-ReLU features: non-negative, mean far from zero. The centred means have rank
    # C - 1, and the round-off in their last singular value must not be inverted (it once gave
    # NC1 ~ 1e25 here).
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(n_classes), 10)
    centred = rng.standard_normal((n_classes, dim))[labels]
    centred += 0.5 * rng.standard_normal((len(labels), dim))
    reference = neural_collapse_metrics(centred, labels)["nc1"]
    assert 0 < reference < 1
    for offset in [1.0, 12.0, 1e3]:
        shifted = neural_collapse_metrics(centred + offset, labels)["nc1"]
        assert shifted == pytest.approx(reference, rel=1e-6)


def test_nc1_grows_with_noise():
    etf, codes, _ = noisy_features(5, 10, 30, 0.0)
    noise = np.random.default_rng(0).standard_normal((len(codes), 10))
    nc1 = [
        neural_collapse_metrics(etf.T[codes] + scale * noise, codes)["nc1"]
        for scale in [0.0, 0.05, 0.1, 0.3, 1.0, 3.0]
    ]
    assert nc1[0] == pytest.approx(0.0, abs=1e-20)
    assert np.all(np.diff(nc1) > 0)


def test_nc1_is_quadratic_in_class_centred_noise():
    etf, codes, _ = noisy_features(4, 6, 10, 0.0)
    noise = np.random.default_rng(1).standard_normal((len(codes), 6))
    for code in range(4):
        noise[codes == code] -= noise[codes == code].mean(axis=0)
    nc1 = [
        neural_collapse_metrics(etf.T[codes] + scale * noise, codes)["nc1"]
        for scale in [0.1, 0.2, 0.4]
    ]
    np.testing.assert_allclose(nc1, nc1[0] * np.array([1.0, 4.0, 16.0]), rtol=1e-10)


@settings(deadline=None, max_examples=30)
@given(
    n_classes=st.integers(2, 6),
    dim=st.integers(2, 8),
    seed=st.integers(0, 1000),
    shift=st.floats(-100.0, 100.0),
)
def test_nc1_nc2_invariant_to_translation(n_classes, dim, seed, shift):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), 4)
    features = rng.standard_normal((n_classes, dim))[labels] + 0.3 * rng.standard_normal(
        (len(labels), dim)
    )
    translation = shift * rng.standard_normal(dim)
    names = ["nc1", "nc2_equiangularity", "nc2_maxangle"]
    np.testing.assert_allclose(
        neural_collapse_metrics(features + translation, labels)[names],
        neural_collapse_metrics(features, labels)[names],
        rtol=1e-6,
        atol=1e-9,
    )


def test_metrics_string_labels_match_sorted_codes():
    etf, codes, features = noisy_features(3, 5, 8, 0.4)
    names = np.array(["zebra", "ant", "moose"])
    # Sorted labels are ant, moose, zebra: code 0 -> "ant", 1 -> "moose", 2 -> "zebra".
    labels = np.array(["ant", "moose", "zebra"])[codes]
    expected = neural_collapse_metrics(features, codes, weights=etf.T)
    np.testing.assert_array_equal(
        neural_collapse_metrics(features, labels, weights=etf.T), expected
    )
    # The weights follow the sorted labels, not the order of first appearance.
    permuted = neural_collapse_metrics(features, names[codes], weights=etf.T)
    assert permuted["nc3_self_duality"] != pytest.approx(expected["nc3_self_duality"])
    np.testing.assert_allclose(permuted.iloc[:3], expected.iloc[:3], rtol=1e-12)


def test_metrics_invariant_to_sample_order():
    etf, codes, features = noisy_features(4, 6, 7, 0.5)
    order = np.random.default_rng(0).permutation(len(codes))
    np.testing.assert_allclose(
        neural_collapse_metrics(features[order], codes[order], weights=etf.T),
        neural_collapse_metrics(features, codes, weights=etf.T),
        rtol=1e-12,
    )


def test_nc3_hand_computed():
    # Centred means (-1, 0), (1, 0): M / ||M||_F = [[-1, 1], [0, 0]] / sqrt(2). Weights with rows
    # (0, -1), (0, 1) are orthogonal to it, so NC3 = ||A - B||_F = sqrt(2) for unit A, B.
    features = np.array([[-1.0, 0.0], [1.0, 0.0]])
    metrics = neural_collapse_metrics(features, [0, 1], weights=[[0.0, -1.0], [0.0, 1.0]])
    assert metrics["nc3_self_duality"] == pytest.approx(np.sqrt(2), rel=1e-12)
    metrics = neural_collapse_metrics(features, [0, 1], weights=[[-2.0, 0.0], [2.0, 0.0]])
    assert metrics["nc3_self_duality"] == pytest.approx(0.0, abs=1e-12)


def test_nc4_hand_computed_with_bias():
    # Class means -2 and 2 on a line; the nearest mean switches at 0. The classifier w = (-1, 1)
    # with bias (b, 0) switches at z = b / 2.
    features = np.array([[-3.0], [-1.0], [-0.5], [0.5], [1.0], [3.0]])
    labels = [0, 0, 0, 1, 1, 1]
    weights = [[-1.0], [1.0]]
    assert neural_collapse_metrics(features, labels, weights=weights)["nc4_ncc_mismatch"] == 0.0
    # Boundary at 1.5: samples 0.5 and 1.0 go to class 0 by the classifier, class 1 by NCC;
    # at -1.25, samples -1.0 and -0.5 go the other way.
    metrics = neural_collapse_metrics(features, labels, weights=weights, bias=[3.0, 0.0])
    assert metrics["nc4_ncc_mismatch"] == pytest.approx(2 / 6)
    metrics = neural_collapse_metrics(features, labels, weights=weights, bias=[-2.5, 0.0])
    assert metrics["nc4_ncc_mismatch"] == pytest.approx(2 / 6)


def test_metrics_errors():
    _, codes, features = noisy_features(3, 4, 4, 0.1)
    bad = features.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        neural_collapse_metrics(bad, codes)
    bad[2, 1] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        neural_collapse_metrics(bad, codes)
    with pytest.raises(ValueError, match="at least 2 classes"):
        neural_collapse_metrics(features, np.zeros(len(codes)))
    with pytest.raises(ValueError):
        neural_collapse_metrics(features, codes[:-1])
    with pytest.raises(ValueError, match="weights must have shape"):
        neural_collapse_metrics(features, codes, weights=np.ones((4, 3)))
    with pytest.raises(ValueError, match="weights must have shape"):
        neural_collapse_metrics(features, codes, weights=np.ones((3, 5)))
    with pytest.raises(ValueError, match="bias must have shape"):
        neural_collapse_metrics(features, codes, weights=np.ones((3, 4)), bias=np.ones(4))
    with pytest.raises(ValueError, match="without weights"):
        neural_collapse_metrics(features, codes, bias=np.zeros(3))


@settings(deadline=None, max_examples=25)
@given(n_classes=st.integers(2, 8), seed=st.integers(0, 2**16))
def test_class_mean_cosines_are_those_behind_nc2(n_classes, seed):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), 5)
    features = (
        rng.standard_normal((len(labels), 6)) + 3 * rng.standard_normal((n_classes, 6))[labels]
    )
    cosines = class_mean_cosines(features, labels)
    off_diagonal = cosines[~np.eye(n_classes, dtype=bool)]
    np.testing.assert_allclose(np.diag(cosines), 1.0)
    np.testing.assert_allclose(cosines, cosines.T)
    assert off_diagonal.std() == pytest.approx(
        neural_collapse_metrics(features, labels)["nc2_equiangularity"]
    )


def test_class_mean_cosines_of_a_simplex_etf_are_minus_one_over_c_minus_one():
    etf = simplex_etf(5, 8, random_state=0)
    labels = np.array(list("abcde") * 3)
    codes = np.unique(labels, return_inverse=True)[1]
    cosines = class_mean_cosines(etf.T[codes], labels)
    np.testing.assert_allclose(cosines[~np.eye(5, dtype=bool)], -1 / 4, atol=1e-12)


def test_class_mean_cosines_need_two_classes():
    with pytest.raises(ValueError, match="class_mean_cosines needs samples from at least 2"):
        class_mean_cosines(np.ones((3, 2)), [0, 0, 0])
