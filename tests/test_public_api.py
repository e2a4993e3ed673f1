"""The public API the estimators share: ``embed``, and warnings raised at the caller's line."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from ncestimators import AllNCClassifier, DynamicPrototypeClassifier
from ncestimators.datasets import make_superclass_features
from ncestimators.exceptions import DeviceWarning, WarmStartWarning


@pytest.fixture(scope="module")
def features():
    return make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=80, n_features=6, random_state=0
    )


def _small_cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2))


def _images(n_images=8):
    return np.random.default_rng(0).integers(0, 256, (n_images, 16, 16, 3), dtype=np.uint8)


# --- warnings --------------------------------------------------------------------------------


def _warned_here(records, category):
    """Every warning of ``category`` points at this file, the caller's."""
    ours = [record for record in records if issubclass(record.category, category)]
    assert ours
    assert {record.filename for record in ours} == {__file__}


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_a_warning_of_fit_in_a_pipeline_names_the_caller(features):
    X, y = features
    model = make_pipeline(
        StandardScaler(), AllNCClassifier(hidden_dims=(8,), max_epochs=1, warm_start=True)
    ).fit(X, y)
    with pytest.warns(WarmStartWarning) as records:
        model.set_params(allncclassifier__hidden_dims=(4,)).fit(X, y)
    _warned_here(records, WarmStartWarning)


def test_a_warning_of_fit_in_cross_validation_names_the_caller(features, no_cuda):
    X, y = features
    with pytest.warns(DeviceWarning) as records:
        cross_validate(DynamicPrototypeClassifier(max_epochs=1, device="cuda"), X, y, cv=2)
    _warned_here(records, DeviceWarning)


def test_a_warning_of_fit_in_fine_tune_names_the_caller(no_cuda):
    pytest.importorskip("torchvision")
    from ncestimators.adapters import FineTune

    head = DynamicPrototypeClassifier(max_epochs=1, device="cuda")
    with pytest.warns(DeviceWarning) as records:
        FineTune(head, backbone=_small_cnn()).fit(_images(), np.arange(8) % 2)
    _warned_here(records, DeviceWarning)


def test_a_warning_of_an_extractor_names_the_caller(no_cuda):
    pytest.importorskip("torchvision")
    from ncestimators.adapters import BackboneFeatures

    extractor = BackboneFeatures(_small_cnn(), device="cuda")
    with pytest.warns(DeviceWarning) as records:
        make_pipeline(extractor).fit_transform(_images())
    _warned_here(records, DeviceWarning)
