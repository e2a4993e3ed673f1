"""Fuzzed inputs: every call succeeds with finite outputs or raises a ValueError or TypeError.

Hypothesis draws the inputs a user may pass by mistake or on purpose: shapes from empty to a
few samples, dtypes (float16/32/64, ints, bools, objects), NaN and infinity anywhere, labels as
ints, strings, bools or a mix (with NaN), and lengths of X and y that disagree; feature
matrices as arrays, lists, DataFrames with odd column names, sparse matrices and tensors. Never an
IndexError, a RuntimeError from torch or NumPy's own messages, never NaN predictions.

Generated cases: ``FEATURE_EXAMPLES`` per estimator for the two feature heads and
``SEQUENCE_EXAMPLES`` per estimator for the two sequence heads (ragged sequences of length 0
and up), ``SEGMENTATION_EXAMPLES`` for CeCo.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)

FEATURE_EXAMPLES = 150
SEQUENCE_EXAMPLES = 80
SEGMENTATION_EXAMPLES = 80


def _fuzz(max_examples):
    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


DTYPES = [np.float16, np.float32, np.float64, np.int64, np.bool_, object]
LABELS = {
    "ints": lambda n, rng: rng.integers(0, 3, n),
    "strings": lambda n, rng: rng.choice(["cat", "dog", "emu"], n),
    "bools": lambda n, rng: rng.integers(0, 2, n).astype(bool),
    "mixed": lambda n, rng: np.array([1, "a", 2.5, True][: max(n, 0)] * (n // 4 + 1))[:n],
    "with NaN": lambda n, rng: np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 3, n)),
    "one class": lambda n, rng: np.zeros(n, dtype=int),
}
ALLOWED = (ValueError, TypeError)
CONTAINERS = {
    "ndarray": lambda X: X,
    "list": lambda X: X.tolist(),
    "DataFrame, odd column names": lambda X: pd.DataFrame(
        X, columns=[f"{i} col\n{'é' * i}" for i in range(X.shape[1])]
    ),
    "sparse": lambda X: scipy.sparse.csr_matrix(X) if X.dtype not in (object, np.float16) else X,
    "tensor": lambda X: torch.as_tensor(X) if X.dtype not in (object, np.float16) else X,
}


def _values(shape, dtype, poison, rng):
    values = rng.standard_normal(shape) * 3
    if poison and values.size and np.issubdtype(np.dtype(dtype), np.floating):
        flat = values.reshape(-1)
        flat[rng.integers(flat.size)] = rng.choice([np.nan, np.inf, -np.inf])
    return values.astype(dtype)


def _check_call(call):
    """Run ``call``: allowed errors pass, any other exception fails, outputs must be finite."""
    try:
        outputs = call()
    except ALLOWED as error:
        assert str(error), "an error must say what is wrong"
        return
    for output in outputs:
        output = np.asarray(output, dtype=float)
        assert np.isfinite(output).all(), "predictions must be finite"


@st.composite
def feature_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_samples = draw(st.integers(0, 8))
    n_features = draw(st.integers(0, 4))
    X = _values((n_samples, n_features), draw(st.sampled_from(DTYPES)), draw(st.booleans()), rng)
    X = CONTAINERS[draw(st.sampled_from(sorted(CONTAINERS)))](X)
    n_labels = n_samples + draw(st.sampled_from([0, 0, 0, -1, 1]))
    y = LABELS[draw(st.sampled_from(sorted(LABELS)))](max(n_labels, 0), rng)
    return X, y


FEATURE_HEADS = {
    "DynamicPrototypeClassifier": lambda: DynamicPrototypeClassifier(
        hidden_dims=(4,), max_epochs=1, random_state=0
    ),
    "AllNCClassifier": lambda: AllNCClassifier(
        hidden_dims=(4,), projection_dim=4, max_epochs=1, random_state=0
    ),
}


@pytest.mark.parametrize("name", list(FEATURE_HEADS))
@_fuzz(FEATURE_EXAMPLES)
@given(case=feature_cases())
def test_feature_heads_take_any_input_or_say_what_is_wrong(name, case):
    X, y = case

    def fit_and_predict():
        model = FEATURE_HEADS[name]().fit(X, y)
        return [model.predict_proba(X), model.decision_function(X)]

    _check_call(fit_and_predict)


@st.composite
def sequence_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_videos = draw(st.integers(0, 6))
    n_features = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(DTYPES[:4]))
    poison = draw(st.booleans())
    X = [
        _values((draw(st.integers(0, 4)), n_features), dtype, poison, rng) for _ in range(n_videos)
    ]
    n_targets = n_videos + draw(st.sampled_from([0, 0, 0, -1, 1]))
    return X, max(n_targets, 0), rng


@_fuzz(SEQUENCE_EXAMPLES)
@given(case=sequence_cases(), nan_score=st.booleans())
def test_cofinai_takes_any_sequences_or_says_what_is_wrong(case, nan_score):
    X, n_targets, rng = case
    y = rng.uniform(0, 10, n_targets)
    if nan_score and n_targets:
        y[0] = np.nan

    def fit_and_predict():
        model = CoFInAIRegressor(
            n_grades=2, n_subgrades=2, n_procedures=2, d_procedure=4, d_score=2, max_epochs=1,
            random_state=0,
        ).fit(X, y)  # fmt: skip
        return [model.predict(X)]

    _check_call(fit_and_predict)


@_fuzz(SEQUENCE_EXAMPLES)
@given(case=sequence_cases(), n_classes=st.integers(1, 3))
def test_clusterfb_takes_any_sequences_or_says_what_is_wrong(case, n_classes):
    X, n_targets, rng = case
    y = rng.integers(0, 2, (n_targets, n_classes))

    def fit_and_predict():
        model = ClusterFBSeparator(
            n_clusters=2, hidden_dim=4, max_epochs=1, n_snippets=4, random_state=0
        ).fit(X, y)
        return [model.predict_proba(X)]

    _check_call(fit_and_predict)


@_fuzz(SEGMENTATION_EXAMPLES)
@given(
    seed=st.integers(0, 2**16),
    n_images=st.integers(0, 4),
    size=st.integers(0, 3),
    dtype=st.sampled_from(DTYPES[:5]),
    poison=st.booleans(),
    label_shift=st.sampled_from([0, 0, 1]),
)
def test_ceco_takes_any_maps_or_says_what_is_wrong(
    seed, n_images, size, dtype, poison, label_shift
):
    rng = np.random.default_rng(seed)
    X = _values((n_images, size, size, 3), dtype, poison, rng)
    y = rng.integers(-1, 3, (n_images, size + label_shift, size))

    def fit_and_predict():
        model = CeCoSegmenter(hidden_dims=(4,), max_epochs=1, random_state=0).fit(X, y)
        return [model.predict_proba(X)]

    _check_call(fit_and_predict)
