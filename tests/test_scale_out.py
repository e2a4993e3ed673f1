"""Scale-out on existing engines: joblib's dask backend for searches, sharded extraction."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from torch import nn

from ncestimators import DynamicPrototypeClassifier
from ncestimators.datasets import make_superclass_features

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """Two worker processes on loopback, one thread each (no network beyond 127.0.0.1)."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


def test_grid_search_on_dask_workers_gives_the_sequential_results(client):
    X, y = make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=120, n_features=6, random_state=0
    )
    grid = {"prototype_dim": [2, 3], "lr": [1e-3, 1e-2]}

    def search():
        estimator = DynamicPrototypeClassifier(hidden_dims=(8,), max_epochs=3, random_state=0)
        return GridSearchCV(estimator, grid, cv=2)

    sequential = search().fit(X, y)
    with joblib.parallel_config(backend="dask"):
        on_dask = search().fit(X, y)
    assert on_dask.cv_results_["params"] == sequential.cv_results_["params"]
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], sequential.cv_results_[key])


def test_sharded_extraction_writes_the_same_files_as_one_process(client, tmp_path):
    from ncestimators.adapters import BackboneFeatures, extract_to_files

    images = np.random.default_rng(0).integers(0, 256, (7, 16, 16, 3), dtype=np.uint8)
    extractor = BackboneFeatures(nn.Conv2d(3, 4, 3), device="cpu")
    names = [f"image{index}" for index in range(7)]
    local = extract_to_files(extractor, images, names, tmp_path / "local", shard_size=3)
    shared = extract_to_files(
        extractor, images, names, tmp_path / "dask", client=client, shard_size=3
    )
    assert [path.name for path in shared] == [f"{name}.npy" for name in names]
    for one, other in zip(local, shared, strict=True):
        np.testing.assert_array_equal(np.load(one), np.load(other))
