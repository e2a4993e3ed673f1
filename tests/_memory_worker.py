"""Fit once and predict three times on a memory-mapped X; report the peak growth of private memory.

``tests/test_memory.py`` runs :func:`measure` in fresh processes forked from a server that has
imported this module (what a fresh interpreter holds after its imports, without paying for the
imports every time); ``examples/benchmarks/bench_memory.py`` runs it as a script, ``python
_memory_worker.py NAME DIRECTORY``. X, about 2 GiB, is a file in DIRECTORY, written by the first
process that needs it (mostly a sparse file of zeros: what is measured is the copying, not the
values), mapped read-only with ``np.memmap``. The peak of ``RssAnon`` (private memory; mapped
file pages count in RSS without being a copy) is sampled every few milliseconds while the
estimator fits one epoch and predicts three times, minus its value before the fit, in MiB. The
video case trains ``FineTune`` on 300 video files (one epoch, no predicts: decoding is what
takes the time); its limit adds the size of their frames as uint8.

Nothing of the environment is set: the allocator and torch's threads run at their defaults.
"""

import os
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
from ncestimators.adapters import BackboneFeatures, ClipFeatures, DenseFeatures, FineTune

# Shapes of X, about 2 GiB each (2**29 float32 values). Feature rows are those of issue #22's
# recipe, 4M rows of 128 features, on which the old per-batch arrays fragmented the heap;
# sequences and maps are 512 features wide, as a backbone's are: a quarter of the steps and
# positions of 128 features for the same bytes. Images and clips are [0, 1] floats: uint8 ones
# of the same size hold four times the pixels, and take four times as long, for the same
# batched code path (a buffer the batches reuse, converted to float by the stem).
FEATURES = (2**22, 128)
SEQUENCES = (2**13, 2**7, 512)  # 8192 sequences of up to 128 steps, NaN-padded
FEATURE_MAPS = (2**11, 32, 32, 256)  # 2M positions
IMAGES = (14336, 112, 112, 3)
VIDEOS = (224, 32, 112, 112, 3)  # 224 videos of 32 frames
VIDEO_FILES = (300, 64, 112, 112, 3)  # 300 files of 64 frames: 722 MiB of uint8 frames
LIMIT_MIB = 300


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
    """A read-only memmap of zeros backed by a sparse file: no disk time for the zeros."""
    path = Path(directory) / f"zeros_{'x'.join(map(str, shape))}.bin"
    if not path.exists():
        with open(path, "wb") as file:
            file.truncate(int(np.prod(shape)) * np.dtype(dtype).itemsize)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def padded_sequences(directory):
    """Sequences of 64 to 128 steps: the steps after each one's length are NaN padding."""
    path = Path(directory) / "sequences.bin"
    if not path.exists():
        written = path.with_suffix(".part")
        with open(written, "wb") as file:
            file.truncate(int(np.prod(SEQUENCES)) * 4)
        X = np.memmap(written, dtype=np.float32, mode="r+", shape=SEQUENCES)
        lengths = np.random.default_rng(0).integers(SEQUENCES[1] // 2, SEQUENCES[1] + 1, len(X))
        for sequence, length in zip(X, lengths, strict=True):
            sequence[length:] = np.nan
        X.flush()
        written.rename(path)
    return np.memmap(path, dtype=np.float32, mode="r", shape=SEQUENCES)


def video_files(directory):
    """300 paths of one written video of 64 frames at 112 x 112 (hard links: no disk time)."""
    from _videos import ramp, write_video

    paths = [str(Path(directory) / f"video_{index}.mp4") for index in range(VIDEO_FILES[0])]
    if not Path(paths[-1]).exists():
        write_video(paths[0], ramp(*VIDEO_FILES[1:4]))
        for path in paths[1:]:
            os.link(paths[0], path)
    return paths


def classes(shape):
    return np.random.default_rng(0).integers(0, 4, shape)


def scores(shape):
    return np.random.default_rng(0).random(shape)


def tiny_backbone():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, kernel_size=8, stride=8), torch.nn.ReLU())


def tiny_dense_backbone():
    """Stride-16 maps of 4 channels: the (n, 14, 14, 4) result is 11 MiB, not what is measured."""
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, kernel_size=16, stride=16), torch.nn.ReLU())


def tiny_clip_backbone():
    return torch.nn.Sequential(
        torch.nn.Conv3d(3, 8, kernel_size=(4, 16, 16), stride=(4, 16, 16)), torch.nn.ReLU()
    )


def fine_tune_clips():
    head = CoFInAIRegressor(d_procedure=16, d_score=8, batch_size=8)
    return FineTune(head, backbone=tiny_clip_backbone(), clip_len=16)


# name: (make the estimator, make X from a directory, make y from the length of X, or None).
# The estimators on feature inputs train with larger batches than their defaults (an epoch of
# fewer steps, each with more memory; DynamicPrototypeClassifier's is the recipe);
# FineTune and the extractors run at their defaults.
CASES = {
    "DynamicPrototypeClassifier": (
        lambda: DynamicPrototypeClassifier(batch_size=4096),
        lambda directory: mapped_zeros(directory, FEATURES),
        lambda n: classes(n),
    ),
    "AllNCClassifier": (
        # The two views' feature noise and dropout make per-batch arrays of the batch's size
        # only, and take three quarters of the epoch's time on a CPU.
        lambda: AllNCClassifier(
            hidden_dims=(16,),
            projection_dim=16,
            feature_dropout=0.0,
            feature_noise=0.0,
            batch_size=8192,
        ),
        lambda directory: mapped_zeros(directory, FEATURES),
        lambda n: classes(n),
    ),
    "CeCoSegmenter": (
        lambda: CeCoSegmenter(hidden_dims=(16,), embedding_dim=16, batch_size=16),
        lambda directory: mapped_zeros(directory, FEATURE_MAPS),
        lambda n: classes((n, *FEATURE_MAPS[1:3])),
    ),
    "ClusterFBSeparator": (
        lambda: ClusterFBSeparator(n_clusters=8, hidden_dim=16, batch_size=64),
        padded_sequences,
        lambda n: classes(n),
    ),
    "CoFInAIRegressor": (
        lambda: CoFInAIRegressor(d_procedure=16, d_score=8, batch_size=64),
        padded_sequences,
        lambda n: scores(n),
    ),
    "BackboneFeatures": (
        lambda: BackboneFeatures(tiny_backbone()),
        lambda directory: mapped_zeros(directory, IMAGES),
        None,
    ),
    "DenseFeatures": (
        lambda: DenseFeatures(tiny_dense_backbone()),
        lambda directory: mapped_zeros(directory, IMAGES),
        None,
    ),
    "ClipFeatures": (
        lambda: ClipFeatures(tiny_clip_backbone()),
        lambda directory: mapped_zeros(directory, VIDEOS),
        None,
    ),
    "FineTune on images": (
        lambda: FineTune(DynamicPrototypeClassifier(hidden_dims=(16,)), backbone=tiny_backbone()),
        lambda directory: mapped_zeros(directory, IMAGES),
        lambda n: classes(n),
    ),
    "FineTune on video files": (fine_tune_clips, video_files, lambda n: scores(n)),
}


def fit_and_predict(make, X, y, n_predicts):
    """Fit once (one epoch) and predict (or transform) ``n_predicts`` times."""
    model = make()
    settings = {"random_state": 0, "device": "cpu"}
    if y is None:
        model.set_params(**settings).fit(X)
        method = model.transform
    else:
        prefix = "estimator__" if isinstance(model, FineTune) else ""
        settings = {f"{prefix}{name}": value for name, value in settings.items()}
        model.set_params(**settings, **{f"{prefix}max_epochs": 1}).fit(X, y)
        method = model.predict
    for _ in range(n_predicts):
        outputs = method(X)
        assert len(outputs) == len(X)
        del outputs


def measure(name, directory):
    """``(peak growth of RssAnon, its limit)`` in MiB over the case's fit and predicts."""
    make, make_X, make_y = CASES[name]
    X = make_X(directory)
    y = None if make_y is None else make_y(len(X))
    videos = name == "FineTune on video files"
    before = rss_anon_mib()
    sampler = PeakSampler()
    sampler.start()
    fit_and_predict(make, X, y, n_predicts=0 if videos else 3)
    sampler.running = False
    sampler.join()
    limit = LIMIT_MIB + (np.prod(VIDEO_FILES) / 2**20 if videos else 0)
    return sampler.peak - before, limit


def report(name, directory, connection):
    """:func:`measure` in a forked process, sending the result (or the error) back."""
    try:
        connection.send(measure(name, directory))
    except BaseException as error:
        connection.send(error)
        raise


if __name__ == "__main__":
    print("{:.1f} {:.1f}".format(*measure(*sys.argv[1:])))
