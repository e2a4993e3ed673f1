"""A 2 GiB memory-mapped X trains and predicts without being copied into private memory.

Each case fits one epoch and predicts three times on a ``np.memmap`` of about 2 GiB (feature
rows, NaN-padded sequences, feature maps, [0, 1] images and clips; ``_memory_worker.py``), in a
fresh process; its peak growth of anonymous memory (``RssAnon``) must stay under 300 MiB. One
process per case keeps the suite within its time on 2 cores; ``bench_memory.py`` takes the
worst of five. ``FineTune`` trains on 300 video files of 64 frames and predicts once, within
their frames' size as uint8 plus 300 MiB.

The processes run at the allocator's and torch's defaults, as users do. A new array of a few
MiB per batch, freed at varying times, used to leave glibc's heap holding several times what was
live once its mmap threshold rose (DynamicPrototypeClassifier peaked anywhere between 167 and
932 MiB over a fit and three predicts). Batches are now gathered into buffers that every batch
reuses, predictions written into results allocated once (``BatchBuffer``, ``SourceDataset``,
``TorchEstimatorBase._forward``, the extractors' ``transform``), and video clips cut, decoded
and resized batch by batch (``adapters._video``). ``examples/benchmarks/bench_memory.py``
records the worst of five runs per case, before and after.
"""

import multiprocessing
from pathlib import Path

import pytest
from _memory_worker import CASES, report

RUNS = 1  # fresh processes per case; the worst counts (bench_memory.py runs five)


@pytest.fixture(scope="module")
def fresh_processes():
    """Processes forked from a server that imported the worker and nothing else ran in."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["_memory_worker"])
    return context


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One folder for the inputs: each is written once and mapped by every case that reads it."""
    return tmp_path_factory.mktemp("memory")


def _measure_in_a_fresh_process(context, name, directory):
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=report, args=(name, str(directory), sender))
    process.start()
    sender.close()
    result = receiver.recv() if receiver.poll(timeout=300) else TimeoutError(name)
    process.join(timeout=60)
    if isinstance(result, BaseException):
        raise result
    assert process.exitcode == 0, f"{name}: the process exited with {process.exitcode}"
    return result


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("name", list(CASES))
def test_a_memory_mapped_x_trains_and_predicts_without_a_copy(name, fresh_processes, data_dir):
    results = [_measure_in_a_fresh_process(fresh_processes, name, data_dir) for _ in range(RUNS)]
    growth, limit = max(results)
    assert growth < limit, f"{name} grew its private memory by {growth:.0f} MiB (limit {limit:.0f})"
