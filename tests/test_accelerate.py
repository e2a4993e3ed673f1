"""Multi-process fits through accelerate: two CPU processes on loopback, launched with torchrun."""

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


def test_two_processes_train_one_model_and_agree(tmp_path):
    # The store of the shared history takes the port after the rendezvous port.
    port = _free_port()
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={port}", str(WORKER), str(tmp_path),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    ranks = [np.load(tmp_path / f"rank{rank}.npz") for rank in (0, 1)]
    assert all(int(rank["world_size"]) == 2 for rank in ranks)
    # DistributedDataParallel keeps the replicas equal; the shared history stops both at once.
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    assert int(ranks[0]["n_iter"]) == int(ranks[1]["n_iter"])
    np.testing.assert_array_equal(ranks[0]["proba"], ranks[1]["proba"])
    assert ranks[0]["proba"].shape == (200, 4)


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
