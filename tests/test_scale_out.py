"""Scale-out on existing engines: joblib's dask backend for searches, sharded extraction."""

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits
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


class RecordsTorchThreads(Callback):
    """Notes the process and the torch threads that the fit it belongs to ran with."""

    def on_train_begin(self, net, **kwargs):
        self.process_, self.threads_ = os.getpid(), torch.get_num_threads()


def _fits_threads(**search_kwargs):
    """``(process, torch threads)`` of each fit of a 2-fold cross-validation."""
    X, y = make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=80, n_features=6, random_state=0
    )
    estimator = DynamicPrototypeClassifier(
        hidden_dims=(8,), max_epochs=1, random_state=0, callbacks=[RecordsTorchThreads()]
    )
    fits = cross_validate(estimator, X, y, cv=2, return_estimator=True, **search_kwargs)
    return [(fit.callbacks[0].process_, fit.callbacks[0].threads_) for fit in fits["estimator"]]


def test_loky_workers_fit_with_their_share_of_the_cores():
    # joblib's convention: each of n_jobs loky workers gets cpu_count // n_jobs threads.
    fits = _fits_threads(n_jobs=2)
    assert all(process != os.getpid() for process, _ in fits)
    assert [threads for _, threads in fits] == [max(1, joblib.cpu_count() // 2)] * 2


def test_a_threadpool_limit_sets_the_threads_of_a_fit():
    threads = torch.get_num_threads()
    with threadpool_limits(limits=1):
        fits = _fits_threads()
    assert fits == [(os.getpid(), 1)] * 2
    assert torch.get_num_threads() == threads  # the fits left the caller's setting alone


def test_dask_workers_fit_on_one_thread_each(client):
    with joblib.parallel_config(backend="dask"):
        fits = _fits_threads()
    assert all(process != os.getpid() for process, _ in fits)
    assert [threads for _, threads in fits] == [1, 1]


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
