"""The input layer: features, sequences and per-position inputs in every accepted form."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator

from ncestimators._data import BatchBuffer
from ncestimators._inputs import check_features, check_positions, check_sequences, encode_classes


class _Sequences(BaseEstimator):
    """Stand-in estimator for check_sequences, which only sets and reads attributes."""


def test_check_sequences_accepts_ragged_padded_and_flat_input():
    rng = np.random.default_rng(0)
    ragged = [rng.standard_normal((length, 3)) for length in (4, 1, 2)]
    padded = check_sequences(_Sequences(), ragged, reset=True)
    assert padded.shape == (3, 4, 3) and padded.dtype == np.float32
    assert np.isnan(padded[1, 1:]).all() and np.isnan(padded[2, 2:]).all()
    np.testing.assert_array_equal(check_sequences(_Sequences(), padded, reset=True), padded)
    objects = np.empty(3, dtype=object)
    objects[:] = ragged
    collections = {
        "object array": objects,
        "Series": pd.Series(ragged, index=["a", "b", "c"]),
        "tensors": [torch.as_tensor(sequence) for sequence in ragged],
        "nested lists": [sequence.tolist() for sequence in ragged],
    }
    for form, sequences in collections.items():
        np.testing.assert_array_equal(
            check_sequences(_Sequences(), sequences, reset=True), padded, err_msg=form
        )
    estimator = _Sequences()
    flat = check_sequences(estimator, rng.standard_normal((5, 3)), reset=True)
    assert flat.shape == (5, 1, 3) and estimator.n_features_in_ == 3


@pytest.mark.parametrize(
    ("sequences", "message"),
    [
        ([np.ones((2, 3)), np.ones((2, 4))], "same number of features"),
        ([np.ones((2, 3)), np.ones((0, 3))], "no time steps"),
        ([np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]])], "NaN inside sequence 0"),
        ([np.ones((2, 3)), np.array([[1.0, 1, 1], [np.nan] * 3, [1, 1, 1]])], "contains NaN"),
        (np.full((2, 3, 2), np.nan), "all padding"),
        ([np.array([[1.0, np.inf]])], "infinity"),
    ],
)
def test_check_sequences_rejects_bad_input(sequences, message):
    with pytest.raises(ValueError, match=message):
        check_sequences(_Sequences(), sequences, reset=True)


def test_check_sequences_checks_the_feature_count_at_predict_time():
    estimator = _Sequences()
    check_sequences(estimator, [np.ones((2, 3))], reset=True)
    with pytest.raises(ValueError, match="X has 2 features, but _Sequences is expecting 3"):
        check_sequences(estimator, [np.ones((2, 2))], reset=False)


@pytest.mark.parametrize("as_sequences", [False, True])
def test_values_beyond_float32_are_a_value_error_not_infinity(as_sequences):
    X = np.random.default_rng(0).standard_normal((10, 4))
    X[3, 1] = -1e39
    model = _Sequences()
    checked = partial(check_sequences, model) if as_sequences else partial(check_features, model)
    with pytest.raises(ValueError, match="magnitude up to 1e\\+39, beyond the float32 range"):
        checked(list(X[:, None, :]) if as_sequences else X, reset=True)


def test_check_positions_reads_point_cloud_collections_alike():
    rng = np.random.default_rng(0)
    clouds = [rng.standard_normal((length, 2)) for length in (5, 3)]
    objects = np.empty(2, dtype=object)
    objects[:] = clouds
    for collection in (clouds, tuple(clouds), objects, pd.Series(clouds)):
        positions = check_positions(_Sequences(), collection, reset=True)
        assert positions.layout == "ragged" and positions.lengths.tolist() == [5, 3]
        labels = positions.flatten_labels(pd.Series([np.zeros(5), np.ones(3)]))
        assert labels.tolist() == [0] * 5 + [1] * 3


def test_an_empty_y_is_a_value_error_not_an_index_error():
    # Found by tests/test_fuzz.py: sklearn's target typing failed with an IndexError on it.
    with pytest.raises(ValueError, match="y is empty"):
        encode_classes(_Sequences(), np.array([], dtype=bool))


def test_batches_are_gathered_into_one_reused_buffer(tmp_path):
    data = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(50, 3))
    data[:] = np.arange(150, dtype=np.float32).reshape(50, 3)
    buffer = BatchBuffer()
    first = buffer.gather(data, np.array([4, 0, 49]))
    np.testing.assert_array_equal(first, data[[4, 0, 49]])
    second = buffer.gather(data, np.array([7, 8]))
    np.testing.assert_array_equal(second, data[[7, 8]])
    assert np.shares_memory(first, second)  # no new array per batch
    larger = buffer.gather(data, np.arange(10))
    np.testing.assert_array_equal(larger, data[:10])
    assert not np.shares_memory(larger, first)  # grown once for the larger batch
    doubles = buffer.gather(data.astype(np.float64), np.array([1]))
    assert doubles.dtype == np.float64 and doubles[0, 2] == 5.0
