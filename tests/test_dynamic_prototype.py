"""DynamicPrototypeClassifier (DL2PA) and make_superclass_features."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.nn import functional as F

from ncestimators import DynamicPrototypeClassifier
from ncestimators._dynamic_prototype._head import SphereHead, signed_axes
from ncestimators._dynamic_prototype._losses import IPMLoss, update_representatives
from ncestimators.datasets import make_superclass_features

FAST = {"hidden_dims": (16,), "max_epochs": 5, "batch_size": 32, "lr": 0.01}


def _superclass_split(n_samples=600, random_state=0, **kwargs):
    X, y, superclasses = make_superclass_features(
        n_samples=n_samples, return_superclasses=True, random_state=random_state, **kwargs
    )
    return *train_test_split(X, y, test_size=0.5, random_state=0, stratify=y), superclasses


@pytest.fixture(scope="module")
def blobs():
    X, y = make_superclass_features(
        n_classes=5, n_superclasses=2, n_samples=150, n_features=6, class_sep=4.0, random_state=0
    )
    return X, y


def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    model = DynamicPrototypeClassifier(**{**FAST, "max_epochs": 20}, random_state=0)
    pipeline = make_pipeline(StandardScaler(), model)
    assert pipeline.fit(X, y).score(X, y) > 0.6
    grid = {
        "dynamicprototypeclassifier__prototype_dim": [2, 3],
        "dynamicprototypeclassifier__assignment": ["dynamic", "static"],
    }
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_[-1].prototypes_.shape[1] in (2, 3)


@pytest.mark.parametrize(
    ("X", "y", "params", "message"),
    [
        (np.eye(4), [0, 1, 2, 3], {"prototype_dim": 2, "prototypes": "etf"}, "'uniform'"),
        (np.eye(3), [0, 1, 2], {"prototype_dim": 1}, "prototype_dim >= 2"),
    ],
)
def test_bad_parameters_are_a_value_error(X, y, params, message):
    with pytest.raises(ValueError, match=message):
        DynamicPrototypeClassifier(**{**FAST, **params}).fit(X, y)


def test_fitted_attributes(blobs):
    X, y = blobs
    model = DynamicPrototypeClassifier(**FAST, assign_every=2, random_state=0).fit(X, y)
    # The default prototype_dim is 5 / 2 rounded up: at most 2d prototypes, the exact regime
    # of a cross-polytope, all cosines at most 0, kept on the axes (+-e_i).
    assert model.prototypes_.shape == (5, 3)
    assert set(np.abs(model.prototypes_).sum(axis=1)) == {1}
    assert set(model.prototypes_.ravel()) == {-1, 0, 1}
    cosines = model.prototypes_ @ model.prototypes_.T
    assert cosines[~np.eye(5, dtype=bool)].max() < 1e-6
    np.testing.assert_array_equal(np.sort(model.assignment_), np.arange(5))
    # The identity, then one re-assignment after epochs 2 and 4 of 5.
    assert len(model.assignment_history_) == 1 + 5 // 2
    np.testing.assert_array_equal(model.assignment_history_[0], np.arange(5))
    np.testing.assert_array_equal(model.assignment_history_[-1], model.assignment_)
    for assignment in model.assignment_history_:
        np.testing.assert_array_equal(np.sort(assignment), np.arange(5))


def test_static_assignment_stays_the_identity(blobs):
    X, y = blobs
    model = DynamicPrototypeClassifier(**FAST, assignment="static", random_state=0).fit(X, y)
    assert len(model.assignment_history_) == 1
    np.testing.assert_array_equal(model.assignment_, np.arange(5))


def test_predictions_use_the_final_assignment(blobs):
    X, y = blobs
    model = DynamicPrototypeClassifier(**FAST, random_state=0).fit(X, y)
    head = model._head.eval()
    with torch.no_grad():
        embeddings = F.normalize(head.encoder(torch.as_tensor(X, dtype=torch.float32)), dim=1)
    cosines = embeddings.numpy() @ model.prototypes_[model.assignment_].T
    np.testing.assert_allclose(model.decision_function(X), cosines, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.classes_[cosines.argmax(axis=1)])
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(proba.argmax(axis=1), cosines.argmax(axis=1))


@pytest.mark.parametrize("prototype_dim", [2, None], ids=["polygon", "signed axes"])
def test_assignment_maximises_similarity_to_the_representatives(prototype_dim):
    X, y = make_superclass_features(
        n_classes=6, n_superclasses=2, n_samples=180, n_features=6, random_state=1
    )
    model = DynamicPrototypeClassifier(**FAST, prototype_dim=prototype_dim, random_state=0)
    model.fit(X, y)
    similarity = model.representatives_ @ model.prototypes_.T
    best = max(similarity[np.arange(6), list(p)].sum() for p in itertools.permutations(range(6)))
    assert similarity[np.arange(6), model.assignment_].sum() == pytest.approx(best, abs=1e-6)


def test_warm_start_continues_the_assignment(blobs):
    X, y = blobs
    model = DynamicPrototypeClassifier(**FAST, warm_start=True, random_state=0).fit(X, y)
    model.fit(X, y)
    assert model.n_iter_ == 10
    assert len(model.assignment_history_) == 11
    model.set_params(assignment="static").fit(X, y)
    assert model.n_iter_ == 15 and len(model.assignment_history_) == 11


def test_early_stopping_keeps_an_assignment_of_the_history(blobs):
    X, y = blobs
    model = DynamicPrototypeClassifier(
        **{**FAST, "max_epochs": 30}, validation_fraction=0.3, n_iter_no_change=2, random_state=0
    ).fit(X, y)
    assert any(np.array_equal(model.assignment_, a) for a in model.assignment_history_)


@settings(max_examples=40, deadline=None)
@given(
    dim=st.integers(1, 6),
    n_extra=st.integers(0, 6),
    seed=st.integers(0, 2**16),
    rotate=st.booleans(),
)
def test_signed_axes_score_like_the_prototype_product(dim, n_extra, seed, rotate):
    n_classes = min(dim + 1 + n_extra, 2 * dim)
    generator = torch.Generator().manual_seed(seed)
    prototypes = signed_axes(n_classes, dim)[torch.randperm(n_classes, generator=generator)]
    if rotate:  # a rotated cross-polytope has no axes to gather: the head multiplies
        rotation, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator))
        prototypes = prototypes @ rotation
    head = SphereHead(4, (), prototypes, assign_every=1)
    assert (head.prototype_axes is None) == (rotate and dim > 1)
    embeddings = F.normalize(torch.randn(7, dim, generator=generator), dim=1)
    assignment = torch.randperm(n_classes, generator=generator)
    torch.testing.assert_close(
        head.cosines(embeddings, assignment), embeddings @ prototypes[assignment].T
    )


def test_ipm_loss_values():
    # Class cosines of two samples with labels 0 and 1: on the prototype, and opposite to it.
    class_cosines = torch.tensor([[1.0, 0.3], [0.2, -1.0]])
    loss = IPMLoss(momentum=0.9).eval()(class_cosines, torch.tensor([0, 1]))
    assert loss.item() == pytest.approx((0 + 0.5 * 4) / 2)


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.integers(0, 3), min_size=1, max_size=12),
    momentum=st.floats(0, 0.99),
    seed=st.integers(0, 2**16),
)
def test_representatives_follow_the_class_means(labels, momentum, seed):
    rng = np.random.default_rng(seed)
    previous = rng.standard_normal((4, 3))
    embeddings = rng.standard_normal((len(labels), 3))
    labels = np.array(labels)
    representatives = torch.tensor(previous, dtype=torch.float64)
    update_representatives(
        representatives, torch.tensor(embeddings), torch.tensor(labels), momentum
    )
    for label in range(4):
        expected = previous[label]
        if (labels == label).any():
            mean = embeddings[labels == label].mean(axis=0)
            expected = momentum * expected + (1 - momentum) * mean
        np.testing.assert_allclose(representatives[label].numpy(), expected, atol=1e-12)


# --- sample weights ------------------------------------------------------------------------------


def test_ipm_loss_with_weights_is_the_weighted_mean():
    class_cosines = torch.tensor([[1.0, 0.3], [0.2, -1.0], [0.5, 0.0]])
    weights = torch.tensor([1.0, 3.0, 0.0])
    loss = IPMLoss(momentum=0.9).eval()(class_cosines, torch.tensor([0, 1, 0]), weights)
    # Terms 0, 2 and 0.125, the last of weight 0.
    assert loss.item() == pytest.approx((1 * 0 + 3 * 2) / 4)


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.integers(0, 3), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.01, 100),
)
def test_weighted_loss_and_representatives_are_weighted_means(labels, seed, scale):
    rng = np.random.default_rng(seed)
    labels = np.array(labels)
    weights = rng.choice([0.0, 0.5, 1.0, 3.0], len(labels))
    cosines = rng.uniform(-1, 1, (len(labels), 4))
    embeddings = rng.standard_normal((len(labels), 3))
    previous = rng.standard_normal((4, 3))
    for factor in (1.0, scale):
        representatives = torch.tensor(previous)
        outputs = (torch.tensor(cosines), torch.tensor(embeddings), representatives)
        loss = IPMLoss(momentum=0.5)(outputs, torch.tensor(labels), torch.tensor(factor * weights))
        terms = 0.5 * (cosines[np.arange(len(labels)), labels] - 1) ** 2
        expected = (weights * terms).sum() / weights.sum() if weights.any() else 0.0
        assert loss.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)
        for label in range(4):
            mass = weights[labels == label].sum()
            expected = previous[label]
            if mass > 0:
                mean = (weights[labels == label] @ embeddings[labels == label]) / mass
                expected = (expected + mean) / 2
            np.testing.assert_allclose(representatives[label].numpy(), expected, atol=1e-12)


def test_integer_weights_act_like_repeated_samples(blobs):
    # One batch holds all the data, so only the order of summation differs.
    X, y = blobs
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    params = {**FAST, "max_epochs": 10, "batch_size": 512, "random_state": 0}
    weighted = DynamicPrototypeClassifier(**params).fit(X, y, sample_weight=weights)
    repeated = DynamicPrototypeClassifier(**params).fit(
        np.repeat(X, weights, 0), np.repeat(y, weights)
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_array_equal(weighted.assignment_history_, repeated.assignment_history_)
    unweighted = DynamicPrototypeClassifier(**params).fit(X, y)
    assert np.abs(weighted.predict_proba(X) - unweighted.predict_proba(X)).max() > 0.01


def _blobs_with_a_mislabelled_group(random_state):
    """Three blobs in the plane; the upper half of class 0 is labelled 1 in ``noisy``."""
    rng = np.random.default_rng(random_state)
    y = np.repeat(np.arange(3), 60)
    X = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 5.0]])[y] + rng.standard_normal((180, 2))
    mislabelled = (y == 0) & (X[:, 1] > 0)
    return X, y, np.where(mislabelled, 1, y), mislabelled


def test_zero_weights_make_the_fit_ignore_mislabelled_samples():
    X, _, noisy, mislabelled = _blobs_with_a_mislabelled_group(0)
    X_test, y_test, *_ = _blobs_with_a_mislabelled_group(1)
    params = {"hidden_dims": (16,), "max_epochs": 10, "batch_size": 64, "lr": 0.02}

    def accuracy(model):
        return np.mean(model.predict(X_test) == y_test)

    ignored = DynamicPrototypeClassifier(**params, random_state=0).fit(
        X, noisy, sample_weight=(~mislabelled).astype(float)
    )
    removed = DynamicPrototypeClassifier(**params, random_state=0).fit(
        X[~mislabelled], noisy[~mislabelled]
    )
    trusted = DynamicPrototypeClassifier(**params, random_state=0).fit(X, noisy)
    assert abs(accuracy(ignored) - accuracy(removed)) < 0.03
    assert accuracy(ignored) > accuracy(trusted) + 0.1


def _mean_cosine_within_superclasses(model, superclasses):
    placed = model.prototypes_[model.assignment_]
    cosines = placed @ placed.T
    pairs = (superclasses[:, None] == superclasses) & ~np.eye(len(superclasses), dtype=bool)
    return cosines[pairs].mean()


def test_dynamic_assignment_puts_superclasses_on_neighbouring_prototypes():
    X_train, _, y_train, _, superclasses = _superclass_split()
    params = {"prototype_dim": 2, "hidden_dims": (64,), "max_epochs": 30, "random_state": 0}
    dynamic = DynamicPrototypeClassifier(**params).fit(X_train, y_train)
    static = DynamicPrototypeClassifier(**params, assignment="static").fit(X_train, y_train)
    # On a 20-gon, 4 arcs of 5 neighbouring vertices give a mean within-arc cosine of 0.77;
    # an arbitrary assignment gives about 0.
    assert _mean_cosine_within_superclasses(dynamic, superclasses) > 0.6
    assert abs(_mean_cosine_within_superclasses(static, superclasses)) < 0.3


def test_dynamic_assignment_beats_static_in_few_dimensions():
    # The paper's Fig. 4a: with d << c a learned assignment matters.
    gains = []
    for seed in (0, 1):
        X_train, X_test, y_train, y_test, _ = _superclass_split(random_state=seed)
        params = {"prototype_dim": 3, "hidden_dims": (64,), "max_epochs": 30, "random_state": 0}
        dynamic = DynamicPrototypeClassifier(**params).fit(X_train, y_train)
        static = DynamicPrototypeClassifier(**params, assignment="static").fit(X_train, y_train)
        gains.append(dynamic.score(X_test, y_test) - static.score(X_test, y_test))
    assert np.mean(gains) > 0.05


def test_make_superclass_features_plants_the_hierarchy():
    X, y, superclasses = make_superclass_features(
        n_classes=7, n_superclasses=3, n_samples=7000, n_features=16,
        return_superclasses=True, random_state=0,
    )  # fmt: skip
    assert X.dtype == np.float64 and X.shape == (7000, 16)
    assert np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(y), 1000)
    np.testing.assert_array_equal(superclasses, [0, 0, 0, 1, 1, 2, 2])
    means = np.array([X[y == c].mean(axis=0) for c in range(7)])
    distances = np.linalg.norm(means[:, None] - means, axis=2)
    same = (superclasses[:, None] == superclasses) & ~np.eye(7, dtype=bool)
    different = superclasses[:, None] != superclasses
    # sqrt(2) * class_sep and sqrt(2 * class_sep**2 + 2 * superclass_sep**2), roughly.
    assert distances[same].max() < 4.5 < 7 < distances[different].min()
    np.testing.assert_allclose(np.std(X - means[y], axis=0), 1, atol=0.05)


def test_make_superclass_features_is_reproducible():
    first = make_superclass_features(n_samples=50, random_state=0)
    second = make_superclass_features(n_samples=50, random_state=0)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_classes": 3, "n_superclasses": 4}, "n_superclasses=4 exceeds n_classes=3"),
        ({"n_classes": 10, "n_samples": 5}, "every class needs at least one sample"),
        ({"n_classes": 1}, "n_classes"),
        ({"class_sep": -1.0}, "class_sep"),
        ({"n_features": 0}, "n_features"),
    ],
)
def test_make_superclass_features_rejects_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        make_superclass_features(**params)
