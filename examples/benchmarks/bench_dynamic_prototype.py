"""Dynamic vs static label-to-prototype assignment on data with super-classes (DL2PA Fig. 4a).

``DynamicPrototypeClassifier`` with ``assignment="dynamic"`` and ``"static"`` at several
``prototype_dim`` values on ``make_superclass_features`` (20 classes in 4 super-classes), plus
``prototypes="etf"`` where an ETF exists, ``assign_every=5`` (fewer re-assignments) and two
baselines: ``LogisticRegression`` and an MLP with the same hidden layer trained with softmax
cross-entropy (``MLPClassifier``, the learnable-classifier "PSC" of the paper). Each seed draws a
new data set (1000 training, 1000 test samples) and seeds the estimators.

Columns: test accuracy mean +- std over the seeds, and the mean cosine between the prototypes
of two classes of the same super-class under the final assignment (about 0 for an arbitrary
assignment; higher means the assignment put super-classes on neighbouring prototypes).

The paper's Fig. 4a claim, dynamic beats static assignment, is then tested at each
``prototype_dim`` as a paired comparison over the seeds (mean difference with its 95 % interval).

Run with ``OMP_NUM_THREADS=1 python examples/benchmarks/bench_dynamic_prototype.py [--seeds 10]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
import pandas as pd
from _paired import paired_table
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from ncestimators import DynamicPrototypeClassifier
from ncestimators.datasets import make_superclass_features

N_CLASSES = 20
PROTOTYPE_DIMS = (2, 3, 5, 10, 19)
HIDDEN_DIMS = (256,)


def configurations():
    """(label, DynamicPrototypeClassifier parameters) of every row of the table."""
    for dim in PROTOTYPE_DIMS:
        kinds = ("uniform", "etf") if dim >= N_CLASSES - 1 else ("uniform",)
        for kind in kinds:
            for assignment in ("dynamic", "static"):
                label = f"d={dim}, {kind}, {assignment}"
                yield label, {"prototype_dim": dim, "prototypes": kind, "assignment": assignment}
        if dim == 3:
            yield (
                f"d={dim}, uniform, dynamic, assign_every=5",
                {"prototype_dim": dim, "assign_every": 5},
            )


def split(seed):
    X, y, superclasses = make_superclass_features(
        n_classes=N_CLASSES, n_samples=2000, return_superclasses=True, random_state=seed
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=seed
    )
    return X_train, X_test, y_train, y_test, superclasses


def within_superclass_cosine(model, superclasses):
    placed = model.prototypes_[model.assignment_]
    cosines = placed @ placed.T
    pairs = (superclasses[:, None] == superclasses) & ~np.eye(len(superclasses), dtype=bool)
    return cosines[pairs].mean()


def run(seeds):
    """Table rows (label, accuracies, cosine) and the accuracy of every (label, seed)."""
    splits = {seed: split(seed) for seed in seeds}
    rows, scores = [], []
    for label, params in configurations():
        accuracies, cosines = [], []
        for seed, (X_train, X_test, y_train, y_test, superclasses) in splits.items():
            model = DynamicPrototypeClassifier(
                **params, hidden_dims=HIDDEN_DIMS, random_state=seed
            ).fit(X_train, y_train)
            accuracies.append(model.score(X_test, y_test))
            scores.append({"model": label, "seed": seed, "accuracy": accuracies[-1]})
            cosines.append(within_superclass_cosine(model, superclasses))
        rows.append((label, accuracies, f"{np.mean(cosines):.2f}"))
    baselines = {
        "LogisticRegression": lambda seed: LogisticRegression(max_iter=2000),
        f"MLPClassifier{HIDDEN_DIMS} (softmax CE)": lambda seed: MLPClassifier(
            HIDDEN_DIMS, max_iter=500, random_state=seed
        ),
    }
    for label, make in baselines.items():
        accuracies = [
            make(seed).fit(X_train, y_train).score(X_test, y_test)
            for seed, (X_train, X_test, y_train, y_test, _) in splits.items()
        ]
        rows.append((label, accuracies, "-"))
    return rows, pd.DataFrame(scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (default 10)")
    arguments = parser.parse_args()
    start = time.perf_counter()
    rows, scores = run(list(range(arguments.seeds)))
    print("| model | test accuracy | within-super-class prototype cosine |")
    print("|---|---|---|")
    for label, accuracies, cosine in rows:
        print(f"| {label} | {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f} | {cosine} |")
    claims = [
        (f"Fig. 4a: dynamic beats static at d={dim}", f"d={dim}, uniform, dynamic",
         f"d={dim}, uniform, static")
        for dim in PROTOTYPE_DIMS
    ]  # fmt: skip
    print("\nFig. 4a as paired comparisons: test accuracy, dynamic minus static, mean over "
          "seeds ± 95% interval\n")  # fmt: skip
    print(paired_table(scores, claims, value="accuracy"))
    print(f"\n{arguments.seeds} seeds, {time.perf_counter() - start:.0f} s in total.")


if __name__ == "__main__":
    main()
