"""Fit and predict one estimator on a memory-mapped X; print the peak growth of anonymous memory.

Run by ``tests/test_memory.py`` in a fresh process: ``python _memory_worker.py NAME PATH``. X is a
float32 ``np.memmap`` at PATH. Mapped file pages count in RSS without being a copy, so the
measure is ``RssAnon`` (private memory), sampled every few milliseconds while the estimator
fits one epoch and predicts; the result is its peak minus its value before the fit, in MiB.
"""

import sys
import threading
import time

import numpy as np

from ncestimators import AllNCClassifier, DynamicPrototypeClassifier

# (estimator, shape of X: the same number of values, about 2 GiB, for every estimator)
CASES = {
    "DynamicPrototypeClassifier": (
        lambda: DynamicPrototypeClassifier(hidden_dims=(64,), max_epochs=1, batch_size=8192),
        (4_194_304, 128),
    ),
    "AllNCClassifier": (
        lambda: AllNCClassifier(
            hidden_dims=(64,), projection_dim=32, max_epochs=1, batch_size=8192
        ),  # fmt: skip
        (4_194_304, 128),
    ),
}
# Not yet CeCoSegmenter: its label encoding holds int64 copies of the (n, H, W) labels (about
# 1 GiB of growth at this size; issue #15).


def rss_anon_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


class PeakSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = rss_anon_mib()
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_anon_mib())
            time.sleep(0.002)


def main(name, path):
    make, shape = CASES[name]
    X = np.memmap(path, dtype=np.float32, mode="r", shape=shape)
    n_samples = shape[0]
    labels_shape = shape[:-1]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, labels_shape)
    before = rss_anon_mib()
    sampler = PeakSampler()
    sampler.start()
    model = make().set_params(random_state=0, device="cpu").fit(X, y)
    predicted = model.predict(X)
    sampler.running = False
    sampler.join()
    assert len(predicted) == n_samples
    print(f"{sampler.peak - before:.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
