"""What every estimator promises alike: persistence, reproducibility, untouched global RNGs,
and a ValueError that says what to fix for bad input.

Each case fits an estimator on a small data set of its task and lists the outputs that must
survive a round trip and repeat under the same ``random_state``. Random parts of training beyond
weight initialisation and batch order are switched on (clip crops, snippet sampling), so that
they are covered too.
"""

import pickle

import joblib
import numpy as np
import pytest
import torch

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators.datasets import (
    load_digits_lt,
    make_aqa_sequences,
    make_dense_segmentation,
    make_superclass_features,
    make_wtal_videos,
)


def _superclass_data():
    return make_superclass_features(
        n_classes=5, n_superclasses=2, n_samples=150, n_features=6, random_state=0
    )


def _digits_data():
    data = load_digits_lt(imbalance_ratio=10, random_state=0)
    return data.X_train / 16, data.y_train


def _aqa_data():
    return make_aqa_sequences(n_videos=30, n_clips=(5, 9), n_features=6, random_state=0)


def _wtal_data():
    X, y, _ = make_wtal_videos(
        n_videos=12, n_classes=3, n_features=12, min_length=16, max_length=40, random_state=0
    )
    return X, y


def _segmentation_data():
    return make_dense_segmentation(
        n_images=10, height=8, width=8, n_features=6, n_classes=4, imbalance=8, random_state=0
    )


def _frame_values(frame):
    return frame.to_numpy(dtype=float)


CASES = {
    "DynamicPrototypeClassifier": (
        lambda **seed: DynamicPrototypeClassifier(
            prototype_dim=2, hidden_dims=(16,), max_epochs=5, batch_size=32, **seed
        ),
        _superclass_data,
        lambda model, X: [model.predict_proba(X), np.asarray(model.assignment_history_)],
    ),
    "AllNCClassifier": (
        lambda **seed: AllNCClassifier(
            hidden_dims=(16,), projection_dim=8, max_epochs=5, batch_size=32, **seed
        ),
        _digits_data,
        lambda model, X: [model.predict_proba(X), model.embed(X)],
    ),
    "CoFInAIRegressor": (
        lambda **seed: CoFInAIRegressor(
            n_grades=3,
            n_subgrades=3,
            n_procedures=2,
            d_procedure=8,
            d_score=4,
            max_epochs=5,
            batch_size=8,
            clip_crop=3,
            **seed,
        ),
        _aqa_data,
        lambda model, X: [_frame_values(model.predict_grades(X)), model.subgrade_prototypes_],
    ),
    "ClusterFBSeparator": (
        lambda **seed: ClusterFBSeparator(
            n_clusters=4, hidden_dim=8, max_epochs=3, batch_size=4, n_snippets=10, **seed
        ),
        _wtal_data,
        lambda model, X: [
            model.predict_proba(X),
            _frame_values(model.localize(X)),
            model.cluster_foreground_,
        ],
    ),
    "CeCoSegmenter": (
        lambda **seed: CeCoSegmenter(
            hidden_dims=(16,), embedding_dim=8, max_epochs=5, batch_size=4, **seed
        ),
        _segmentation_data,
        lambda model, X: [model.predict_proba(X)],
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    make_estimator, make_data, outputs = CASES[request.param]
    X, y = make_data()
    return make_estimator, X, y, outputs


def _assert_same_outputs(first, second):
    for one, other in zip(first, second, strict=True):
        np.testing.assert_array_equal(one, other)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_gives_identical_outputs(case, dump, tmp_path):
    make_estimator, X, y, outputs = case
    model = make_estimator(random_state=0).fit(X, y)
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(model))
    else:
        joblib.dump(model, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    _assert_same_outputs(outputs(loaded, X), outputs(model, X))


def test_same_random_state_gives_identical_outputs(case):
    make_estimator, X, y, outputs = case
    first = outputs(make_estimator(random_state=3).fit(X, y), X)
    second = outputs(make_estimator(random_state=3).fit(X, y), X)
    other = outputs(make_estimator(random_state=4).fit(X, y), X)
    _assert_same_outputs(first, second)
    assert not np.array_equal(first[0], other[0])


def test_outputs_do_not_depend_on_the_batch_a_sample_is_predicted_in(case):
    # sklearn's check_methods_subset_invariance asks for 1e-7, below float32 resolution.
    make_estimator, X, y, outputs = case
    model = make_estimator(random_state=0).fit(X, y)
    whole = outputs(model, X)[0]
    one_by_one = np.concatenate([outputs(model, X[i : i + 1])[0] for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-5, atol=1e-6)


def test_fit_and_predict_leave_global_random_states_untouched(case):
    make_estimator, X, y, outputs = case
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    outputs(make_estimator(random_state=None).fit(X, y), X)
    outputs(make_estimator(random_state=np.random.RandomState(0)).fit(X, y), X)
    assert all(
        np.array_equal(a, b) for a, b in zip(numpy_state, np.random.get_state(), strict=True)
    )
    assert torch.equal(torch_state, torch.get_rng_state())


BAD_INPUTS = {
    "NaN": ([[0.0, np.nan], [1.0, 1.0], [2.0, 1.0]], [0, 1, 0], "contains NaN"),
    "infinity": ([[0.0, np.inf], [1.0, 1.0], [2.0, 1.0]], [0, 1, 0], "contains infinity"),
    "beyond float32": ([[0.0, 1e39], [1.0, 1.0], [2.0, 1.0]], [0, 1, 0], "beyond the float32"),
    "length mismatch": ([[0.0, 1.0], [1.0, 1.0]], [0, 1, 1], "inconsistent numbers of samples"),
    "empty": (np.empty((0, 2)), [], "0 sample"),
    "one target value": ([[0.0, 1.0], [1.0, 1.0]], [1, 1], "only one class"),
}
# A regressor has no classes; a single score leaves it no range to divide into grades.
ONE_TARGET_MESSAGES = {"CoFInAIRegressor": "score range is empty"}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_bad_input_is_a_value_error_that_says_what_to_fix(name, bad):
    X, y, message = BAD_INPUTS[bad]
    if bad == "one target value":
        message = ONE_TARGET_MESSAGES.get(name, message)
    with pytest.raises(ValueError, match=message):
        CASES[name][0](random_state=0).fit(np.asarray(X), np.asarray(y))


@pytest.mark.parametrize("name", list(CASES))
def test_wrong_feature_count_at_predict(name):
    X, y = np.random.default_rng(0).standard_normal((20, 3)), np.arange(20) % 2
    model = CASES[name][0](random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3 features"):
        model.predict(X[:, :2])
