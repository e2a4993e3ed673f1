"""make_long_tailed and load_digits_lt."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from ncestimators.datasets import load_digits_lt, make_long_tailed


def _expected_counts(n_max, n_classes, ratio):
    return [
        max(1, int(np.floor(n_max * ratio ** (-c / (n_classes - 1)) + 1e-9)))
        for c in range(n_classes)
    ]


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 60), min_size=2, max_size=8),
    ratio=st.floats(1, 300),
    seed=st.integers(0, 2**16),
)
def test_profile_is_the_cifar_lt_exponential(sizes, ratio, seed):
    y = np.repeat(np.arange(len(sizes)), sizes)
    X = np.arange(2 * len(y)).reshape(-1, 2)
    X_lt, y_lt = make_long_tailed(X, y, ratio, random_state=seed)
    counts = np.bincount(y_lt, minlength=len(sizes))
    assert counts.tolist() == _expected_counts(min(sizes), len(sizes), ratio)
    assert counts[0] == min(sizes) and (np.diff(counts) <= 0).all()
    # Kept rows are rows of X with their own label, in their original order, without repeats.
    rows = X_lt[:, 0] // 2
    assert (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(y[rows], y_lt)


def test_exact_products_are_not_rounded_down():
    # 500 * 100 ** -1 is 5 up to rounding error; the CIFAR-10-LT tail class has 5 images.
    y = np.repeat(np.arange(10), 500)
    _, y_lt = make_long_tailed(np.zeros((len(y), 1)), y, 100, random_state=0)
    assert np.bincount(y_lt).tolist() == [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]


def test_classes_follow_the_sort_order_of_the_labels():
    y = np.repeat(["zebra", "ant", "mole"], 20)
    _, y_lt = make_long_tailed(np.zeros((60, 3)), y, 4, random_state=0)
    labels, counts = np.unique(y_lt, return_counts=True)
    assert dict(zip(labels, counts, strict=True)) == {"ant": 20, "mole": 10, "zebra": 5}


def test_pandas_input_keeps_its_type_and_index():
    y = pd.Series(np.repeat([0, 1, 2], 10), index=np.arange(100, 130), name="target")
    X = pd.DataFrame({"a": np.arange(30.0), "b": -np.arange(30.0)}, index=y.index)
    X_lt, y_lt = make_long_tailed(X, y, 10, random_state=0)
    assert isinstance(X_lt, pd.DataFrame) and isinstance(y_lt, pd.Series)
    assert list(X_lt.columns) == ["a", "b"] and y_lt.name == "target"
    pd.testing.assert_index_equal(X_lt.index, y_lt.index)
    np.testing.assert_array_equal(X_lt["a"].to_numpy(), X_lt.index - 100)


def test_images_keep_their_shape():
    digits = load_digits()
    images, y = make_long_tailed(digits.images, digits.target, 10, random_state=0)
    assert images.shape[1:] == (8, 8) and len(images) == len(y)


def test_same_random_state_same_subset():
    y = np.repeat(np.arange(4), 30)
    X = np.arange(len(y))
    first = make_long_tailed(X, y, 5, random_state=1)[0]
    np.testing.assert_array_equal(first, make_long_tailed(X, y, 5, random_state=1)[0])
    assert not np.array_equal(first, make_long_tailed(X, y, 5, random_state=2)[0])


@pytest.mark.parametrize(
    ("X", "y", "ratio", "message"),
    [
        (np.zeros((4, 1)), [0, 0, 1, 1], 0.5, "imbalance_ratio"),
        (np.zeros((4, 1)), [0, 0, 1, 1], -3, "imbalance_ratio"),
        (np.zeros((4, 1)), [1, 1, 1, 1], 10, "at least 2 classes"),
        (np.zeros((3, 1)), [0, 0, 1, 1], 10, "inconsistent numbers of samples"),
    ],
)
def test_make_long_tailed_errors(X, y, ratio, message):
    with pytest.raises(ValueError, match=message):
        make_long_tailed(X, y, ratio)


def _original_rows(X):
    """Index in load_digits() of each row of X (the digits have no duplicate images)."""
    position = {row.tobytes(): i for i, row in enumerate(load_digits().data)}
    return np.array([position[row.tobytes()] for row in X])


@pytest.mark.parametrize("ratio", [1, 10, 50, 100])
def test_digits_lt_splits(ratio):
    data = load_digits_lt(ratio, random_state=0)
    digits = load_digits()
    # Balanced test split: floor(0.3 * 174) = 52 images of every digit.
    assert np.bincount(data.y_test).tolist() == [52] * 10
    # Long-tailed train split from the remaining images (at least 122 of each digit).
    assert data.class_counts.tolist() == _expected_counts(122, 10, ratio)
    assert data.class_counts.tolist() == np.bincount(data.y_train).tolist()
    train, test = _original_rows(data.X_train), _original_rows(data.X_test)
    assert not set(train) & set(test)
    np.testing.assert_array_equal(digits.target[train], data.y_train)
    np.testing.assert_array_equal(digits.target[test], data.y_test)
    assert data.X_train.shape[1] == data.X_test.shape[1] == len(data.feature_names) == 64
    assert str(ratio) in data.DESCR


def test_digits_lt_is_deterministic_and_shares_the_test_split_across_ratios():
    first, again = load_digits_lt(10, random_state=3), load_digits_lt(10, random_state=3)
    for key in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(first[key], again[key])
    np.testing.assert_array_equal(load_digits_lt(100, random_state=3).X_test, first.X_test)
    assert not np.array_equal(load_digits_lt(10, random_state=4).X_test, first.X_test)


def test_digits_lt_test_size():
    data = load_digits_lt(10, test_size=0.5)
    assert np.bincount(data.y_test).tolist() == [87] * 10
    assert data.class_counts.iloc[0] == 174 - 87  # what the smallest class has left


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"imbalance_ratio": 0.9}, "imbalance_ratio"),
        ({"test_size": 0.001}, "test_size >= "),
        ({"test_size": 1.0}, "test_size"),
        ({"test_size": 2}, "test_size"),
    ],
)
def test_load_digits_lt_errors(params, message):
    with pytest.raises(ValueError, match=message):
        load_digits_lt(**params)
