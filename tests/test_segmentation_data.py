"""make_dense_segmentation plants what its docstring promises."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from ncestimators.datasets import make_dense_segmentation


@pytest.fixture(scope="module")
def data():
    return make_dense_segmentation(
        n_images=300, height=24, width=24, n_features=32, n_classes=9, random_state=0
    )


def test_shapes_and_types(data):
    X, y = data
    assert X.shape == (300, 24, 24, 32) and X.dtype == np.float32
    assert y.shape == (300, 24, 24) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(9))


def test_random_state_makes_it_reproducible():
    first = make_dense_segmentation(n_images=3, height=8, width=8, random_state=5)
    second = make_dense_segmentation(n_images=3, height=8, width=8, random_state=5)
    other = make_dense_segmentation(n_images=3, height=8, width=8, random_state=6)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_class_areas_are_long_tailed_with_the_requested_ratio(data):
    _, y = data
    areas = np.bincount(y.ravel(), minlength=9) / y.size
    assert spearmanr(np.arange(9), areas).statistic < -0.9
    assert 100 / 2 < areas[0] / areas[-1] < 100 * 2


def test_imbalance_one_gives_comparable_areas():
    _, y = make_dense_segmentation(
        n_images=200, height=24, width=24, n_classes=6, imbalance=1, n_scenes=1, random_state=0
    )
    areas = np.bincount(y.ravel(), minlength=6) / y.size
    assert areas.max() / areas.min() < 1.5


def test_regions_are_spatially_coherent(data):
    _, y = data
    same_right = np.mean(y[:, :, 1:] == y[:, :, :-1])
    same_below = np.mean(y[:, 1:] == y[:, :-1])
    shuffled = np.random.default_rng(0).permutation(y.ravel()).reshape(y.shape)
    assert min(same_right, same_below) > 0.85
    assert np.mean(shuffled[:, :, 1:] == shuffled[:, :, :-1]) < 0.4


def test_classes_co_occur_within_scenes_only(data):
    _, y = data
    present = np.stack([np.isin(np.arange(9), np.unique(labels)) for labels in y])
    scene = np.arange(9) % 3
    for a in range(1, 9):
        for b in range(1, 9):
            if scene[a] != scene[b]:
                assert not np.any(present[:, a] & present[:, b])
    assert present[:, 0].mean() > 0.95  # the most frequent class is in every scene
    # Classes of one scene appear together: scene mates are positively correlated.
    assert np.corrcoef(present[:, 1], present[:, 4])[0, 1] > 0.3


def test_one_scene_lets_every_class_co_occur():
    _, y = make_dense_segmentation(
        n_images=100, height=24, width=24, n_classes=6, imbalance=3, n_scenes=1, random_state=0
    )
    present = np.stack([np.isin(np.arange(6), np.unique(labels)) for labels in y])
    assert np.any(present[:, 1] & present[:, 2])


def _class_mean_cosines(X, y, n_classes):
    means = np.stack([X[y == c].mean(axis=0) for c in range(n_classes)])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    return means @ means.T


def test_tail_classes_are_close_to_each_other_in_feature_space():
    X, y = make_dense_segmentation(
        n_images=300, height=16, width=16, n_classes=9, context=0.0, noise=0.0, random_state=0
    )
    cosines = _class_mean_cosines(X, y, 9)
    assert cosines[7, 8] > 0.5 > abs(cosines[0, 1])
    # The documented value: about tail_similarity**2 * r * r' (plus chance overlap).
    assert cosines[7, 8] == pytest.approx(0.9**2 * 7 / 8, abs=0.25)


def test_noise_and_context_control_the_features():
    X, y = make_dense_segmentation(
        n_images=20, height=16, width=16, n_classes=4, context=0.0, noise=0.0, random_state=0
    )
    # Without noise and context every pixel of a class has the class's unit prototype.
    for c in range(4):
        np.testing.assert_allclose(X[y == c], X[y == c][0][None].repeat((y == c).sum(), 0))
    np.testing.assert_allclose(np.linalg.norm(X, axis=-1), 1.0, rtol=1e-5)
    X_noisy, _ = make_dense_segmentation(
        n_images=20, height=16, width=16, n_classes=4, context=0.0, noise=2.0, random_state=0
    )
    assert np.linalg.norm(X_noisy - X, axis=-1).mean() == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize(
    "params",
    [{"n_classes": 1}, {"imbalance": 0.5}, {"context": 1.5}, {"tail_similarity": 0}, {"noise": -1}],
)
def test_invalid_parameters(params):
    with pytest.raises(ValueError):
        make_dense_segmentation(n_images=2, **params)
