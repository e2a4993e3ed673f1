"""FineTune in real jobs: two processes through accelerate, warm starts, a fixed validation set."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torchvision")

WORKER = Path(__file__).with_name("_fine_tune_worker.py")


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of two torchrun processes fine-tuned (see _fine_tune_worker.py)."""
    pytest.importorskip("accelerate")
    output = tmp_path_factory.mktemp("ranks")
    # --standalone picks a free rendezvous port; the shared history takes the next one.
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(WORKER), str(output),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [dict(np.load(output / f"rank{rank}.npz")) for rank in (0, 1)]


@pytest.mark.parametrize("name", ["segmenter", "classifier"])
def test_two_processes_fine_tune_a_cut_backbone_and_agree(ranks, name):
    assert all(int(rank["world_size"]) == 2 for rank in ranks)
    for rank in ranks:
        assert int(rank[f"{name}_n_iter"]) == 2
        assert np.isfinite(rank[f"{name}_train_loss"]).all()
    # DistributedDataParallel keeps the replicas equal, the backbone's included.
    np.testing.assert_array_equal(ranks[0][f"{name}_weights"], ranks[1][f"{name}_weights"])
    np.testing.assert_array_equal(ranks[0]["predictions"], ranks[1]["predictions"])
