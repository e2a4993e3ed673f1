"""Cost curves: fit and predict time against samples, classes and sequence length.

Every estimator runs at its defaults for one epoch (``max_epochs=1``), next to the closest
scikit-learn alternative: ``MLPClassifier`` with the same hidden layer, batch size and one epoch
for the feature classifiers, ``RidgeCV`` on mean-pooled snippets for the sequence heads (the
baseline their own benchmarks use). A fitted model predicts on its training data. The
``slope`` columns are the exponent of the time between two sizes, ``log(t2 / t1) / log(s2 /
s1)``: 1 is linear, and fixed costs (the first torch calls, prototypes) push it below 1.

Also: ``uniform_prototypes(c, 64)`` (the prototypes DPC builds for ``prototype_dim=64``) and the
Hungarian step of DPC (:func:`ncestimators.ot.assign`, once per epoch) against the class count.

Run with ``python examples/benchmarks/bench_cost.py [--max-samples 1000000] [--max-classes
10000]``; prints markdown.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import time
import warnings
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPClassifier

from ncestimators import (
    AllNCClassifier,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators._bench import cpu_model
from ncestimators.datasets import make_aqa_sequences, make_wtal_videos
from ncestimators.geometry import uniform_prototypes
from ncestimators.ot import assign

N_FEATURES = 128
HIDDEN, BATCH_SIZE = (256,), 128  # the defaults of DPC and AllNC
CLASS_SWEEP_SAMPLES = 10_000
LENGTHS = (64, 256, 1024, 4096)
N_VIDEOS = 32


def feature_classifiers():
    return {
        "DynamicPrototypeClassifier": DynamicPrototypeClassifier(max_epochs=1),
        "AllNCClassifier": AllNCClassifier(max_epochs=1),
        "MLPClassifier": MLPClassifier(HIDDEN, batch_size=BATCH_SIZE, max_iter=1),
    }


def blobs(n_samples, n_classes, random_state=0):
    """Gaussian classes around random centres; every class has a sample when n >= classes."""
    rng = np.random.default_rng(random_state)
    centres = rng.standard_normal((n_classes, N_FEATURES)).astype(np.float32)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    return centres[y] + rng.standard_normal((n_samples, N_FEATURES), dtype=np.float32), y


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def fit_and_predict_seconds(model, X, y):
    model.set_params(random_state=0)
    if "device" in model.get_params():
        model.set_params(device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = timed(lambda: model.fit(X, y))
    return fit, timed(lambda: model.predict(X))


def slope(sizes, seconds):
    """Exponents of the time between successive sizes; '–' for the first."""
    return ["–"] + [
        f"{math.log(t2 / t1) / math.log(s2 / s1):.2f}"
        for (s1, t1), (s2, t2) in pairwise(zip(sizes, seconds, strict=True))
    ]


def curve_table(size_name, sizes, timings):
    """Markdown rows of fit and predict seconds per model and size, with their slopes."""
    lines = [
        f"| model | {size_name} | fit s | fit slope | predict s | predict slope |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in timings.items():
        fits, predicts = zip(*runs, strict=True)
        for size, fit, fit_slope, predict, predict_slope in zip(
            sizes, fits, slope(sizes, fits), predicts, slope(sizes, predicts), strict=True
        ):
            lines.append(
                f"| {name} | {size:,} | {fit:.2f} | {fit_slope} | {predict:.3f} | {predict_slope} |"
            )
    return "\n".join(lines)


def warm_up():
    """First torch and skorch calls import and allocate; keep that out of the first size."""
    X, y = blobs(512, 4)
    for model in feature_classifiers().values():
        fit_and_predict_seconds(model, X, y)


def samples_curve(sample_counts):
    timings = {name: [] for name in feature_classifiers()}
    for n_samples in sample_counts:
        X, y = blobs(n_samples, 10)
        for name, model in feature_classifiers().items():
            timings[name].append(fit_and_predict_seconds(model, X, y))
    print(
        f"### Samples: {N_FEATURES} float32 features, 10 classes, one epoch, batch "
        f"{BATCH_SIZE}, hidden {HIDDEN}\n"
    )
    print(curve_table("samples", sample_counts, timings) + "\n")


def classes_curve(class_counts):
    # The static assignment skips the end-of-epoch Hungarian step: the difference is its cost.
    models = {
        **feature_classifiers(),
        "DPC, assignment='static'": DynamicPrototypeClassifier(max_epochs=1, assignment="static"),
    }
    timings = {name: [] for name in models}
    for n_classes in class_counts:
        X, y = blobs(CLASS_SWEEP_SAMPLES, n_classes)
        for name, model in models.items():
            timings[name].append(fit_and_predict_seconds(model, X, y))
    print(
        f"### Classes: {CLASS_SWEEP_SAMPLES:,} samples, one epoch. DPC's default prototype_dim "
        "is c/2: its prototypes are the signed axes, so scoring a sample is a gather of c "
        "coordinates. The fit ends with a re-assignment (a c × c Hungarian step), which the "
        "static assignment skips.\n"
    )
    print(curve_table("classes", class_counts, timings) + "\n")


def prototypes_and_assignment(class_counts):
    generator = torch.Generator().manual_seed(0)
    lines = [
        "| classes c | uniform_prototypes(c, 64) s | its max cosine | assign (Hungarian) s |",
        "|---|---|---|---|",
    ]
    for n_classes in class_counts:
        built = uniform_prototypes_cells(n_classes) if n_classes <= 3000 else "not run | –"
        # DPC matches its class representatives (unit vectors) to its prototypes each epoch.
        representatives, targets = torch.randn(2, n_classes, 64, generator=generator)
        similarity = F.normalize(representatives, dim=1) @ F.normalize(targets, dim=1).T
        lines.append(f"| {n_classes:,} | {built} | {timed(lambda s=similarity: assign(s)):.2f} |")
    print("### DPC's prototypes and assignment against the class count\n")
    print("\n".join(lines) + "\n")


def uniform_prototypes_cells(n_classes):
    start = time.perf_counter()
    prototypes = uniform_prototypes(n_classes, 64, random_state=0)
    seconds = time.perf_counter() - start
    cosines = prototypes.T @ prototypes
    np.fill_diagonal(cosines, -1)
    return f"{seconds:.2f} | {cosines.max():.3f}"


def mean_pooled(videos):
    return np.stack([np.nanmean(video, axis=0) for video in videos])


def pooled_ridge_seconds(videos, scores):
    ridge = RidgeCV()
    fit = timed(lambda: ridge.fit(mean_pooled(videos), scores))
    return fit, timed(lambda: ridge.predict(mean_pooled(videos)))


def sequences_curve():
    timings = {name: [] for name in ("CoFInAIRegressor", "ClusterFBSeparator", "RidgeCV")}
    for length in LENGTHS:
        scored, scores = make_aqa_sequences(
            N_VIDEOS, n_clips=(length, length + 1), n_features=N_FEATURES, random_state=0
        )
        labelled, labels, _ = make_wtal_videos(
            n_videos=N_VIDEOS, n_features=N_FEATURES, min_length=length, max_length=length,
            random_state=0,
        )  # fmt: skip
        timings["CoFInAIRegressor"].append(
            fit_and_predict_seconds(CoFInAIRegressor(max_epochs=1), scored, scores)
        )
        timings["ClusterFBSeparator"].append(
            fit_and_predict_seconds(ClusterFBSeparator(max_epochs=1), labelled, labels)
        )
        timings["RidgeCV"].append(pooled_ridge_seconds(scored, scores))
    print(
        f"### Sequence length: {N_VIDEOS} videos of T snippets × {N_FEATURES} features, one "
        "epoch; RidgeCV on the mean-pooled snippets (pooling included)\n"
    )
    print(curve_table("snippets T", LENGTHS, timings) + "\n")


def main(max_samples, max_classes):
    torch.manual_seed(0)
    print(
        f"CPU: {cpu_model()}, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads; one run per cell.\n"
    )
    warm_up()
    sample_counts = [n for n in (10_000, 100_000, 1_000_000) if n <= max_samples]
    samples_curve(sample_counts)
    classes_curve([c for c in (10, 100, 1000, 10_000) if c <= max_classes])
    prototypes_and_assignment([c for c in (100, 300, 1000, 3000, 10_000) if c <= max_classes])
    sequences_curve()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-samples", type=int, default=1_000_000)
    parser.add_argument("--max-classes", type=int, default=10_000)
    arguments = parser.parse_args()
    main(arguments.max_samples, arguments.max_classes)
