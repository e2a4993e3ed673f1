"""A 2 GiB memory-mapped X trains and predicts without being copied into private memory.

Each estimator runs in a fresh process (``_memory_worker.py``), which reports the peak growth
of its anonymous memory (``RssAnon``) while it fits one epoch and predicts on a float32
``np.memmap`` of 2**29 values (a sparse file of zeros: what is measured is the copying, not
the values); the limit is 500 MiB.

Opt-in (``NCESTIMATORS_MEMORY_TESTS=1``) until the measure is stable: the peak growth of
identical runs of DynamicPrototypeClassifier ranged from 167 to 870 MiB on the same machine
(issue #15), so as a CI gate it would fail at random.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _memory_worker import CASES

LIMIT_MIB = 500
WORKER = Path(__file__).with_name("_memory_worker.py")


def _sparse_file(path, shape):
    """A file of zeros of the array's size, written as a hole: no disk time, same mapping."""
    with open(path, "wb") as file:
        file.truncate(int(np.prod(shape)) * np.dtype(np.float32).itemsize)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("NCESTIMATORS_MEMORY_TESTS"), reason="opt-in: NCESTIMATORS_MEMORY_TESTS=1"
)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("name", list(CASES))
def test_a_memory_mapped_x_trains_and_predicts_without_a_copy(name, tmp_path):
    path = tmp_path / "X.f32"
    _sparse_file(path, CASES[name][1])
    completed = subprocess.run(
        [sys.executable, str(WORKER), name, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=WORKER.parent,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    growth = float(completed.stdout.strip().splitlines()[-1])
    assert growth < LIMIT_MIB, f"{name} grew its private memory by {growth:.0f} MiB"
