"""Multi-process fits through accelerate: two CPU processes on loopback, launched with torchrun."""

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("accelerate")

WORKER = Path(__file__).with_name("_accelerate_worker.py")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of two torchrun processes fitted and recorded (see _accelerate_worker.py)."""
    output = tmp_path_factory.mktemp("ranks")
    # The store of the shared history takes the port after the rendezvous port.
    port = _free_port()
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={port}", str(WORKER), str(output),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [dict(np.load(output / f"rank{rank}.npz")) for rank in (0, 1)]


def test_two_processes_train_one_model_and_agree(ranks):
    assert all(int(rank["world_size"]) == 2 for rank in ranks)
    # DistributedDataParallel keeps the replicas equal; the shared history stops both at once.
    for key in ("weights", "proba", "n_iter", "case_weights", "allnc_weights"):
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key])
    assert ranks[0]["proba"].shape == (200, 4)


def test_every_rank_runs_the_per_epoch_steps(ranks):
    from ncestimators import AllNCClassifier, DynamicPrototypeClassifier
    from ncestimators._allnc._losses import gbbn_eta

    worker = _worker_module()
    X, y = worker.dpc_data()
    single = DynamicPrototypeClassifier(**worker.DPC_PARAMS).fit(X, y)
    for rank in ranks:
        # DL2PA: the initial assignment, then one reassignment per epoch, as in one process.
        assert len(rank["assignments"]) == int(rank["n_iter"]) + 1
        np.testing.assert_array_equal(rank["assignments"], np.array(single.assignment_history_))
        # CASE: the clusters' foreground probabilities moved from their 0.5 start.
        assert np.abs(rank["cluster_foreground"] - 0.5).max() > 1e-3
        # AllNC: the curriculum weight of each epoch, from 1 towards 0 in the last one.
        epochs = worker.ALLNC_PARAMS["max_epochs"]
        expected = [gbbn_eta(epoch, epochs, AllNCClassifier().gamma) for epoch in range(epochs)]
        np.testing.assert_allclose(rank["eta"], expected)
    np.testing.assert_array_equal(ranks[0]["cluster_foreground"], ranks[1]["cluster_foreground"])


def test_early_stopping_on_a_fixed_validation_set_restores_the_best_epoch(ranks):
    # The best weights are kept under the unwrapped module's names (DDP adds "module.").
    for rank in ranks:
        assert int(rank["stopped_best"]) + 2 == int(rank["stopped_epochs"]) < 30
    np.testing.assert_array_equal(ranks[0]["stopped_proba"], ranks[1]["stopped_proba"])


def test_every_rank_resumes_from_the_checkpoint_process_0_wrote(ranks):
    for rank in ranks:
        assert int(rank["resumed_from"]) == int(rank["n_iter"])
        np.testing.assert_array_equal(rank["resumed_proba"], rank["checkpointed_proba"])
        np.testing.assert_array_equal(rank["resumed_proba"], ranks[0]["proba"])


def _worker_module():
    spec = importlib.util.spec_from_file_location("_accelerate_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_process_accelerator_trains_like_the_plain_fit(capsys):
    from accelerate import Accelerator

    from ncestimators import CoFInAIRegressor
    from ncestimators.datasets import make_aqa_sequences

    X, y = make_aqa_sequences(n_videos=30, n_features=6, random_state=0)
    params = {"d_procedure": 8, "d_score": 4, "max_epochs": 3, "random_state": 0}
    plain = CoFInAIRegressor(**params).fit(X, y)
    accelerated = CoFInAIRegressor(**params, accelerator=Accelerator(cpu=True)).fit(X, y)
    # The same network and loss; only the batch order differs (accelerate's sampler).
    np.testing.assert_allclose(accelerated.predict(X), plain.predict(X), atol=0.01)
    assert capsys.readouterr().out == ""  # verbose=0 stays silent
