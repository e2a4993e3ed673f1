"""Fit and predict one estimator on a memory-mapped X; print the peak growth of anonymous memory.

Run by ``tests/test_memory.py`` in a fresh process: ``python _memory_worker.py NAME DIRECTORY``.
The worker writes X, about 2 GiB, as a file in DIRECTORY (mostly a sparse file of zeros: what is
measured is the copying, not the values), maps it with ``np.memmap`` and reports the peak of
``RssAnon`` (private memory; mapped file pages count in RSS without being a copy), sampled every
few milliseconds while the estimator fits one epoch and predicts, minus its value before the fit,
in MiB.
"""

import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators.adapters import BackboneFeatures

# Shapes of X, about 2 GiB each (2**29 float32 values, or 2**31 uint8 ones for the images).
FEATURES = (2**22, 128)
SEQUENCES = (2**13, 2**9, 128)  # 8192 sequences of up to 512 steps, NaN-padded
FEATURE_MAPS = (2**11, 64, 64, 64)  # 8M positions: labels are 64 MiB per int64 copy
IMAGES = (2**14 - 2**11, 224, 224, 3)  # uint8, 2 GiB: 14,336 images


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


def mapped_zeros(directory, shape, dtype=np.float32):
    """A writable memmap of zeros backed by a sparse file: no disk time for the zeros."""
    path = Path(directory) / "X.bin"
    with open(path, "wb") as file:
        file.truncate(int(np.prod(shape)) * np.dtype(dtype).itemsize)
    return np.memmap(path, dtype=dtype, mode="r+", shape=shape)


def padded_sequences(directory):
    """Sequences of 256 to 512 steps: the steps after each one's length are NaN padding."""
    X = mapped_zeros(directory, SEQUENCES)
    lengths = np.random.default_rng(0).integers(SEQUENCES[1] // 2, SEQUENCES[1] + 1, len(X))
    for sequence, length in zip(X, lengths, strict=True):
        sequence[length:] = np.nan
    X.flush()
    return X


def classes(shape):
    return np.random.default_rng(0).integers(0, 4, shape)


def scores(shape):
    return np.random.default_rng(0).random(shape)


def tiny_backbone():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, kernel_size=8, stride=8), torch.nn.ReLU())


# name: (make the estimator, make X from a directory, make y from the shape of X, or None)
CASES = {
    "DynamicPrototypeClassifier": (
        lambda: DynamicPrototypeClassifier(hidden_dims=(64,), batch_size=8192),
        lambda directory: mapped_zeros(directory, FEATURES),
        lambda shape: classes(shape[0]),
    ),
    "AllNCClassifier": (
        # Without the per-batch augmentations the epoch takes 12 s instead of 50.
        lambda: AllNCClassifier(
            hidden_dims=(64,),
            projection_dim=32,
            feature_dropout=0.0,
            feature_noise=0.0,
            batch_size=8192,
        ),
        lambda directory: mapped_zeros(directory, FEATURES),
        lambda shape: classes(shape[0]),
    ),
    "CeCoSegmenter": (
        lambda: CeCoSegmenter(hidden_dims=(32,), batch_size=16),
        lambda directory: mapped_zeros(directory, FEATURE_MAPS),
        lambda shape: classes(shape[:-1]),
    ),
    "ClusterFBSeparator": (
        lambda: ClusterFBSeparator(n_clusters=8, hidden_dim=32, batch_size=64),
        padded_sequences,
        lambda shape: classes(shape[0]),
    ),
    "CoFInAIRegressor": (
        lambda: CoFInAIRegressor(d_procedure=32, d_score=16, batch_size=64),
        padded_sequences,
        lambda shape: scores(shape[0]),
    ),
    "BackboneFeatures": (
        lambda: BackboneFeatures(tiny_backbone()),
        lambda directory: mapped_zeros(directory, IMAGES, np.uint8),
        None,
    ),
}


def fit_and_predict(make, X, y):
    model = make().set_params(random_state=0, device="cpu")
    if y is None:
        outputs = model.fit(X).transform(X)
    else:
        outputs = model.set_params(max_epochs=1).fit(X, y).predict(X)
    assert len(outputs) == len(X)


def main(name, directory):
    make, make_X, make_y = CASES[name]
    written = make_X(directory)
    X = np.memmap(written.filename, dtype=written.dtype, mode="r", shape=written.shape)
    y = None if make_y is None else make_y(X.shape)
    before = rss_anon_mib()
    sampler = PeakSampler()
    sampler.start()
    fit_and_predict(make, X, y)
    sampler.running = False
    sampler.join()
    print(f"{sampler.peak - before:.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
