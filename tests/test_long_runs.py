"""Long runs: a killed fit resumes from its checkpoint, and a fixed validation set."""

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from ncestimators import DynamicPrototypeClassifier
from ncestimators.callbacks import TrainingCheckpoint, _save_atomically
from ncestimators.datasets import make_superclass_features

WORKER = Path(__file__).with_name("_resume_worker.py")


def _run_worker(case, mode, directory, n_processes=1):
    launch = [sys.executable]
    if n_processes > 1:
        launch += [
            "-m", "torch.distributed.run", f"--nproc_per_node={n_processes}",
            "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
        ]  # fmt: skip
    return subprocess.run(
        [*launch, str(WORKER), case, mode, str(directory)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("case", "n_processes"), [("dl2pa", 1), ("cofinai", 1), ("allnc", 2)])
def test_a_killed_fit_resumes_in_a_new_process_to_the_same_weights(tmp_path, case, n_processes):
    killed = _run_worker(case, "kill", tmp_path, n_processes)
    if n_processes == 1:
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    else:  # torchrun reports its killed workers
        assert "Signal 9 (SIGKILL)" in killed.stderr, killed.stderr[-2000:]
    state = torch.load(tmp_path / "training_state.pt", weights_only=True)
    assert (state["epochs_done"], state["finished"]) == (3, False)
    assert len(state["rng"]) == n_processes  # every process's own random generators

    resumed = _run_worker(case, "resume", tmp_path, n_processes)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = torch.load(tmp_path / "result.pt", weights_only=True)
    assert result["resumed_from"] == 3
    ours, reference = result["resumed"], result["uninterrupted"]
    assert ours["history"] == reference["history"]
    assert len(json.loads(ours["history"])) > 3
    assert ours["state"].keys() == reference["state"].keys()
    for name, tensor in reference["state"].items():
        assert torch.equal(ours["state"][name], tensor), name


@pytest.fixture
def data():
    return make_superclass_features(n_classes=4, n_samples=160, n_features=6, random_state=0)


class _Interrupt(Callback):
    def __init__(self, at):
        self.at = at

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.at + 1:
            raise KeyboardInterrupt


def test_a_finished_checkpoint_gives_the_finished_model_without_training(tmp_path, data):
    X, y = data
    first = DynamicPrototypeClassifier(
        max_epochs=3, random_state=0, callbacks=[TrainingCheckpoint(tmp_path)]
    ).fit(X, y)
    checkpoint = TrainingCheckpoint(tmp_path)
    # Another random_state would train another network: a finished fit must not train at all.
    again = DynamicPrototypeClassifier(max_epochs=3, random_state=0, callbacks=[checkpoint])
    again.fit(X, y)
    assert checkpoint.resumed_from_ == 3
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    assert again.n_iter_ == 3 and "interrupted" not in again.history_[-1]


def test_a_larger_max_epochs_trains_on_from_the_checkpoint(tmp_path, data):
    X, y = data
    DynamicPrototypeClassifier(
        max_epochs=2, random_state=0, callbacks=[TrainingCheckpoint(tmp_path)]
    ).fit(X, y)
    longer = DynamicPrototypeClassifier(
        max_epochs=5, random_state=0, callbacks=[TrainingCheckpoint(tmp_path)]
    ).fit(X, y)
    straight = DynamicPrototypeClassifier(max_epochs=5, random_state=0).fit(X, y)
    assert longer.n_iter_ == 5
    assert len(longer.assignment_history_) == len(straight.assignment_history_) == 6


def test_an_interrupted_fit_resumes_in_the_same_process(tmp_path, data):
    X, y = data
    params = {"max_epochs": 5, "random_state": 0}
    DynamicPrototypeClassifier(
        **params, callbacks=[_Interrupt(2), TrainingCheckpoint(tmp_path)]
    ).fit(X, y)
    resumed = DynamicPrototypeClassifier(**params, callbacks=[TrainingCheckpoint(tmp_path)])
    straight = DynamicPrototypeClassifier(**params).fit(X, y)
    np.testing.assert_allclose(resumed.fit(X, y).predict_proba(X), straight.predict_proba(X))
    np.testing.assert_array_equal(resumed.assignment_history_, straight.assignment_history_)


@pytest.mark.parametrize(
    ("change", "named"),
    [({"lr": 0.5}, "lr"), ({"random_state": 1}, "random_state")],
)
def test_a_checkpoint_of_another_fit_is_a_value_error(tmp_path, data, change, named):
    X, y = data
    params = {"max_epochs": 2, "random_state": 0}
    DynamicPrototypeClassifier(**params, callbacks=[TrainingCheckpoint(tmp_path)]).fit(X, y)
    other = DynamicPrototypeClassifier(
        **{**params, **change}, callbacks=[TrainingCheckpoint(tmp_path)]
    )
    with pytest.raises(ValueError, match=f"another fit: {named} differ"):
        other.fit(X, y)
    with pytest.raises(ValueError, match="the targets differ"):
        DynamicPrototypeClassifier(**params, callbacks=[TrainingCheckpoint(tmp_path)]).fit(
            X, np.roll(y, 1)
        )


def test_a_kill_while_writing_leaves_the_previous_checkpoint_readable(tmp_path, data, monkeypatch):
    X, y = data
    DynamicPrototypeClassifier(
        max_epochs=2, random_state=0, callbacks=[TrainingCheckpoint(tmp_path)]
    ).fit(X, y)
    before = (tmp_path / "training_state.pt").read_bytes()

    def torn_write(obj, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt  # stands for the kill: the write never completes

    monkeypatch.setattr("ncestimators.callbacks.torch.save", torn_write)
    with pytest.raises(KeyboardInterrupt):
        _save_atomically({"format": 1}, tmp_path / "training_state.pt")
    assert (tmp_path / "training_state.pt").read_bytes() == before
    assert torch.load(tmp_path / "training_state.pt", weights_only=True)["finished"]
    assert [path.name for path in tmp_path.iterdir()] == ["training_state.pt"]


def test_a_fixed_validation_set_drives_early_stopping(data):
    X, y = data
    X_val = X[:40]
    rng = np.random.default_rng(0)
    # Labels that training cannot fit: the validation loss stops improving early.
    y_val = rng.permutation(y[:40])
    model = DynamicPrototypeClassifier(max_epochs=60, n_iter_no_change=3, random_state=0)
    model.fit(X[40:], y[40:], X_val=X_val, y_val=y_val)
    assert model.n_iter_ < 60
    for row in model.history_:
        sizes = [batch["valid_batch_size"] for batch in row["batches"] if "valid_loss" in batch]
        assert sum(sizes) == len(X_val)
    valid_loss = model.history_[:, "valid_loss"]
    best = int(np.argmin(valid_loss))
    assert model.n_iter_ == best + 1 + 3
    assert model.net_.train_split is None  # the fitted model does not keep X_val


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X_val": np.zeros((3, 6))}, "y_val is None"),
        ({"y_val": np.zeros(3)}, "X_val is None"),
        ({"X_val": np.zeros((3, 5)), "y_val": np.zeros(3)}, "X has 5 features"),
        ({"X_val": np.zeros((3, 6)), "y_val": [0, 1, 9]}, "y_val contain 1 classes"),
    ],
)
def test_bad_validation_sets_say_what_to_fix(data, kwargs, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        DynamicPrototypeClassifier(max_epochs=1).fit(X, y, **kwargs)


def test_validation_fraction_and_x_val_together_are_a_value_error(data):
    X, y = data
    model = DynamicPrototypeClassifier(max_epochs=1, validation_fraction=0.2)
    with pytest.raises(ValueError, match="Set validation_fraction=None"):
        model.fit(X, y, X_val=X, y_val=y)


def test_save_params_passes_safetensors_through(tmp_path, data):
    X, y = data
    model = DynamicPrototypeClassifier(max_epochs=2, random_state=0).fit(X, y)
    model.save_params(f_params=tmp_path / "params.safetensors", use_safetensors=True)
    assert (tmp_path / "params.safetensors").read_bytes()[8:9] == b"{"  # a safetensors header
    other = DynamicPrototypeClassifier(max_epochs=1, random_state=1).fit(X, y)
    other.load_params(f_params=tmp_path / "params.safetensors", use_safetensors=True)
    np.testing.assert_array_equal(other.predict_proba(X), model.predict_proba(X))


def test_epoch_steps_are_found_through_compile_and_data_parallel():
    from torch import nn

    from ncestimators._model import EpochSteps
    from ncestimators._nets import EpochHooks

    class Counting(EpochSteps, nn.Linear):
        epochs = []

        def start_epoch(self, epoch, max_epochs):
            self.epochs.append(epoch)

    head = Counting(2, 2)
    wrapped = nn.DataParallel(torch.compile(head))

    class Net:  # what EpochHooks reads of a skorch net
        criterion_, module_, max_epochs, history = nn.Identity(), wrapped, 3, [{}, {}]

    EpochHooks().on_epoch_begin(Net())
    assert head.epochs == [1]
