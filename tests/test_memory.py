"""A 2 GiB memory-mapped X trains and predicts without being copied into private memory.

Each estimator (and ``BackboneFeatures``, on memory-mapped images) runs in a fresh process
(``_memory_worker.py``), which reports the peak growth of its anonymous memory (``RssAnon``)
while it fits one epoch and predicts on a ``np.memmap`` of about 2 GiB: feature rows for the
classifiers, NaN-padded sequences for CoFInAI and ClusterFB, feature maps for CeCo, uint8
images for the extractor. The limit is 500 MiB.

The worker runs with glibc's mmap threshold fixed at its initial 128 KiB
(``MALLOC_MMAP_THRESHOLD_``). By default glibc raises the threshold the first time a large
buffer is freed, after which the per-batch buffers of a few MiB come from the heap and, freed,
stay there when the heap is fragmented: identical runs of DynamicPrototypeClassifier then
peaked anywhere between 95 and 843 MiB, memory held by the allocator while what was live never
exceeded 176 MiB. With the fixed threshold the measure is what is live, and a copy of X (or of
a sizeable part of it) still shows in full.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _memory_worker import CASES

LIMIT_MIB = 500
WORKER = Path(__file__).with_name("_memory_worker.py")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("name", list(CASES))
def test_a_memory_mapped_x_trains_and_predicts_without_a_copy(name, tmp_path):
    completed = subprocess.run(
        [sys.executable, str(WORKER), name, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=WORKER.parent,
        env={**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    growth = float(completed.stdout.strip().splitlines()[-1])
    assert growth < LIMIT_MIB, f"{name} grew its private memory by {growth:.0f} MiB"
