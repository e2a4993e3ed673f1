"""Real loggers (the ``track`` extra): skorch's TensorBoard and MlflowLogger, alone and in searches.

Every test reads the logs back from disk, with TensorBoard's own reader or an ``MlflowClient``,
and compares them with the fitted model's ``history_``. MLflow writes to a SQLite store under a
temporary directory: its file store is in maintenance mode and refuses to open by default.
"""

import json
import os
import time

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import MlflowLogger, TensorBoard

from ncestimators import CoFInAIRegressor, DynamicPrototypeClassifier
from ncestimators.datasets import make_aqa_sequences, make_superclass_features

MAX_EPOCHS = 3


class TensorBoardPerFit(TensorBoard):
    """skorch's TensorBoard with a new SummaryWriter, in a new directory of ``log_dir``, per fit.

    A SummaryWriter holds a lock, which sklearn's ``clone`` (GridSearchCV, cross_validate)
    cannot copy; this callback holds none until training begins. ``writer`` is the writer of
    the last fit: skorch callbacks take every public attribute as a parameter.
    """

    def __init__(self, log_dir, writer=None, **kwargs):
        super().__init__(writer, **kwargs)
        self.log_dir = log_dir

    def on_train_begin(self, net, **kwargs):
        from torch.utils.tensorboard import SummaryWriter

        os.makedirs(self.log_dir, exist_ok=True)
        run = time.strftime("%Y%m%d-%H%M%S-") + os.urandom(4).hex()
        self.writer = SummaryWriter(os.path.join(self.log_dir, run))


class MlflowRunPerFit(MlflowLogger):
    """skorch's MlflowLogger with a new run of ``experiment_id`` per fit.

    The run's params are the net's learning rate, number of epochs and batch size.
    """

    def __init__(self, client, experiment_id, **kwargs):
        super().__init__(client=client, **kwargs)
        self.experiment_id = experiment_id

    def on_train_begin(self, net, **kwargs):
        self.run_ = self.client_.create_run(self.experiment_id)
        for name in ("lr", "max_epochs", "batch_size"):
            self.client_.log_param(self.run_.info.run_id, name, getattr(net, name))
        super().on_train_begin(net, **kwargs)


@pytest.fixture(scope="module")
def summary_writer():
    """torch's SummaryWriter class (it needs the tensorboard package)."""
    return pytest.importorskip("torch.utils.tensorboard").SummaryWriter


@pytest.fixture(scope="module")
def read_scalars(summary_writer):
    """A function: the scalars of a TensorBoard log directory, ``{tag: [(step, value)]}``."""
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

    def read(log_dir):
        events = accumulator.EventAccumulator(str(log_dir))
        events.Reload()
        return {
            tag: [(event.step, event.value) for event in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]
        }

    return read


@pytest.fixture(scope="module")
def mlflow_client(tmp_path_factory):
    """An MlflowClient on a SQLite store of its own; no global MLflow state is set."""
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    store = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    return mlflow.MlflowClient(f"sqlite:///{store}")


@pytest.fixture
def experiment_id(mlflow_client, tmp_path):
    """A new experiment whose artifacts go to ``tmp_path``, not to the working directory."""
    return mlflow_client.create_experiment(tmp_path.name, artifact_location=tmp_path.as_uri())


@pytest.fixture(scope="module")
def features():
    return make_superclass_features(n_classes=4, n_samples=120, n_features=6, random_state=0)


def _per_epoch(history, key):
    """``[(epoch, value)]`` of a history column, as TensorBoard stores it (float32)."""
    return [(row["epoch"], float(np.float32(row[key]))) for row in history]


def _metric_history(client, run_id, key):
    return [(metric.step, metric.value) for metric in client.get_metric_history(run_id, key)]


def _estimators():
    sequences = make_aqa_sequences(n_videos=24, n_clips=(5, 8), n_features=8, random_state=0)
    features = make_superclass_features(n_classes=4, n_samples=120, n_features=6, random_state=0)
    return [
        pytest.param(DynamicPrototypeClassifier, features, id="DynamicPrototypeClassifier"),
        pytest.param(CoFInAIRegressor, sequences, id="CoFInAIRegressor"),
    ]


@pytest.mark.parametrize("validation_fraction", [None, 0.25])
@pytest.mark.parametrize(("Estimator", "data"), _estimators())
def test_tensorboard_logs_one_scalar_per_epoch(
    tmp_path, summary_writer, read_scalars, Estimator, data, validation_fraction
):
    writer = summary_writer(tmp_path)
    tensorboard = TensorBoard(writer)
    model = Estimator(
        max_epochs=MAX_EPOCHS,
        validation_fraction=validation_fraction,
        callbacks=[tensorboard],
        random_state=0,
    ).fit(*data)

    # The user's callback ran, not a copy: it is in the net and its writer wrote the log.
    assert any(callback is tensorboard for _, callback in model.net_.callbacks_)
    assert tensorboard.writer is writer
    scalars = read_scalars(tmp_path)
    assert len(model.history_) == MAX_EPOCHS
    assert scalars["Loss/train_loss"] == _per_epoch(model.history_, "train_loss")
    if validation_fraction is None:
        assert "Loss/valid_loss" not in scalars
    else:
        assert scalars["Loss/valid_loss"] == _per_epoch(model.history_, "valid_loss")


def test_mlflow_logger_logs_params_and_one_metric_per_epoch(
    tmp_path, features, mlflow_client, experiment_id
):
    from mlflow.entities import Param

    run = mlflow_client.create_run(experiment_id)
    logger = MlflowLogger(run, mlflow_client)
    model = DynamicPrototypeClassifier(
        max_epochs=MAX_EPOCHS, validation_fraction=0.25, callbacks=[logger], random_state=0
    )
    params = {"lr": model.lr, "max_epochs": model.max_epochs, "hidden_dims": model.hidden_dims}
    mlflow_client.log_batch(
        run.info.run_id, params=[Param(name, str(value)) for name, value in params.items()]
    )
    model.fit(*features)

    assert any(callback is logger for _, callback in model.net_.callbacks_)
    logged = mlflow_client.get_run(run.info.run_id)
    assert logged.info.status == "FINISHED"
    assert logged.data.params == {name: str(value) for name, value in params.items()}
    for key in ("train_loss", "valid_loss", "dur"):
        expected = [(row["epoch"], row[key]) for row in model.history_]
        assert _metric_history(mlflow_client, run.info.run_id, key) == expected
    # The logger's artifacts include the history, which reads back as the model's.
    history_file = mlflow_client.download_artifacts(run.info.run_id, "history.json", tmp_path)
    with open(history_file) as f:
        assert [row["train_loss"] for row in json.load(f)] == model.history_[:, "train_loss"]


def test_a_summary_writer_cannot_be_cloned_for_a_search(tmp_path, summary_writer, features):
    # skorch's known limitation (its issues 701, 818): clone deep-copies the writer's lock.
    model = DynamicPrototypeClassifier(callbacks=[TensorBoard(summary_writer(tmp_path))])
    search = GridSearchCV(model, {"lr": [1e-3, 1e-2]}, cv=2)
    with pytest.raises(TypeError, match="cannot pickle"):
        search.fit(*features)


def _search(callback, features):
    model = DynamicPrototypeClassifier(max_epochs=MAX_EPOCHS, callbacks=[callback], random_state=0)
    return GridSearchCV(model, {"lr": [1e-3, 1e-2]}, cv=2, n_jobs=1).fit(*features)


def test_a_writer_per_fit_logs_every_fit_of_a_search(tmp_path, read_scalars, features):
    search = _search(TensorBoardPerFit(tmp_path), features)

    # 2 candidates x 2 folds, and the refit of the best one.
    logs = [read_scalars(log_dir) for log_dir in sorted(tmp_path.iterdir())]
    assert len(logs) == 5
    for scalars in logs:
        assert [step for step, _ in scalars["Loss/train_loss"]] == [1, 2, 3]
    refit = _per_epoch(search.best_estimator_.history_, "train_loss")
    assert [scalars["Loss/train_loss"] for scalars in logs].count(refit) == 1
    (writer,) = [
        callback.writer
        for _, callback in search.best_estimator_.net_.callbacks_
        if isinstance(callback, TensorBoardPerFit)
    ]
    assert read_scalars(writer.log_dir)["Loss/train_loss"] == refit


def test_a_run_per_fit_logs_every_fit_of_a_search(features, mlflow_client, experiment_id):
    search = _search(MlflowRunPerFit(mlflow_client, experiment_id), features)

    runs = mlflow_client.search_runs([experiment_id])
    best_lr = search.best_params_["lr"]
    assert sorted(float(run.data.params["lr"]) for run in runs) == sorted(
        [1e-3, 1e-3, 1e-2, 1e-2, best_lr]
    )
    histories = []
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.params["max_epochs"] == str(MAX_EPOCHS)
        history = _metric_history(mlflow_client, run.info.run_id, "train_loss")
        assert [step for step, _ in history] == [1, 2, 3]
        histories.append(history)
    refit = [(row["epoch"], row["train_loss"]) for row in search.best_estimator_.history_]
    assert histories.count(refit) == 1


def _logger(kind, tmp_path, request):
    """A logger of class ``kind`` writing under ``tmp_path``; skips without its package."""
    if kind == "TensorBoard":
        return TensorBoard(request.getfixturevalue("summary_writer")(tmp_path))
    if kind == "TensorBoardPerFit":
        request.getfixturevalue("summary_writer")
        return TensorBoardPerFit(tmp_path)
    client = request.getfixturevalue("mlflow_client")
    experiment_id = request.getfixturevalue("experiment_id")
    if kind == "MlflowLogger":
        return MlflowLogger(client.create_run(experiment_id), client)
    return MlflowRunPerFit(client, experiment_id)


@pytest.mark.parametrize(
    "kind", ["TensorBoard", "TensorBoardPerFit", "MlflowLogger", "MlflowRunPerFit"]
)
def test_a_model_fitted_with_a_logger_pickles(request, tmp_path, features, kind):
    logger = _logger(kind, tmp_path / "logs", request)
    model = DynamicPrototypeClassifier(max_epochs=2, callbacks=[logger], random_state=0)
    model.fit(*features)

    # skorch's TensorBoard closes its writer when training ends (close_after_train=True), and
    # a closed SummaryWriter holds no lock; an MlflowClient holds only the store's address.
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    X = features[0]
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_a_writer_kept_open_does_not_pickle(tmp_path, summary_writer, features):
    writer = summary_writer(tmp_path / "logs")
    model = DynamicPrototypeClassifier(
        max_epochs=2, callbacks=[TensorBoard(writer, close_after_train=False)], random_state=0
    ).fit(*features)
    with pytest.raises(TypeError, match="cannot pickle"):
        joblib.dump(model, tmp_path / "model.joblib")
    writer.close()
    joblib.dump(model, tmp_path / "model.joblib")
