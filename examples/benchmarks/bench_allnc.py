"""AllNC vs plain cross-entropy and logistic regression on digits-LT (paper Tables II and VII).

``AllNCClassifier`` with its defaults, the same network trained with plain cross-entropy (its
regularisers off: no HyCon, no P2P, no re-balancing, no views), ``LogisticRegression`` and
``LogisticRegression(class_weight="balanced")`` on ``load_digits_lt`` at imbalance ratios 10, 50
and 100. Each seed draws a new balanced test split and long-tailed training split and seeds the
estimators; features are standardised on the training split.

Tables (mean +- std over the seeds, or means):

* test balanced accuracy and the mean per-class accuracy of many-shot (> 50 training images),
  medium-shot (20-50) and few-shot (< 20) digits, from ``ncestimators.metrics.shot_accuracy``;
* ``neural_collapse_metrics`` of the learned training features and the classifier;
* the paper's ablations (w/o HyCon, w/o P2P, w/o GBBN) and two more at imbalance 100, and
  Tables VI-VII's claims as paired comparisons over the seeds (mean difference with its 95 %
  interval), with the self-duality claim: P2P brings the classifier and the centred class
  means together (lower ``nc3_self_duality``). P2P matches the *Gram matrices* of both to the
  ETF's, which leaves them free up to a rotation, so the table also gives the NC3 distance
  after the best rotation of the means onto the classifier (orthogonal Procrustes).

``--select`` adds the validation study behind the defaults of ``feature_noise`` and
``feature_dropout``: candidates are fitted on a long-tailed split of the *non-test* images and
scored on a balanced validation split of them; the test images are never used.

Run with ``OMP_NUM_THREADS=1 python examples/benchmarks/bench_allnc.py [--seeds 10] [--select]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import itertools
import time

import numpy as np
import pandas as pd
from _paired import paired_table
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ncestimators import AllNCClassifier
from ncestimators._demo._runs import PLAIN_CE
from ncestimators.datasets import load_digits_lt, make_long_tailed
from ncestimators.geometry import neural_collapse_metrics
from ncestimators.metrics import shot_accuracy

RATIOS = (10, 50, 100)
MANY, FEW = 50, 20
MODELS = {
    "AllNC": lambda seed: AllNCClassifier(random_state=seed),
    "plain CE (same network)": lambda seed: AllNCClassifier(**PLAIN_CE, random_state=seed),
    "LogisticRegression": lambda seed: LogisticRegression(max_iter=5000),
    'LogisticRegression(class_weight="balanced")': lambda seed: LogisticRegression(
        class_weight="balanced", max_iter=5000
    ),
}
ABLATIONS = {
    "AllNC": {},
    "w/o HyCon": {"hycon": False},
    "w/o P2P": {"p2p": False},
    "w/o GBBN (gamma=0)": {"gamma": 0.0},
    "w/o HyCon and P2P": {"alpha": 0.0, "p2p": False},
    "w/o views": {"feature_noise": 0.0, "feature_dropout": 0.0},
    "plain CE": PLAIN_CE,
}
DEFAULTS = "defaults (noise 1.0, dropout 0.2)"
CANDIDATES = {
    "noise 0.1, dropout 0.1": {"feature_noise": 0.1, "feature_dropout": 0.1},
    "noise 0.5, dropout 0.2": {"feature_noise": 0.5, "feature_dropout": 0.2},
    "noise 1.0, dropout 0.1": {"feature_noise": 1.0, "feature_dropout": 0.1},
    DEFAULTS: {},
    "noise 1.0, dropout 0.3": {"feature_noise": 1.0, "feature_dropout": 0.3},
    "noise 2.0, dropout 0.2": {"feature_noise": 2.0, "feature_dropout": 0.2},
    "defaults, rebalance_power 1.5": {"rebalance_power": 1.5},
    "defaults, rebalance_power 2": {"rebalance_power": 2.0},
    "defaults, gamma 1": {"gamma": 1.0},
    "defaults, alpha 3": {"alpha": 3.0},
    "defaults, 200 epochs": {"max_epochs": 200},
}
NC_COLUMNS = ("nc1", "nc2_equiangularity", "nc2_maxangle", "nc3_self_duality", "nc4_ncc_mismatch")


def standardised_split(ratio, seed):
    data = load_digits_lt(imbalance_ratio=ratio, random_state=seed)
    scaler = StandardScaler().fit(data.X_train)
    X_train, X_test = scaler.transform(data.X_train), scaler.transform(data.X_test)
    return X_train, data.y_train, X_test, data.y_test, data.class_counts


def validation_split(ratio, seed):
    """A long-tailed training split and a balanced validation split, both without test images.

    With ``imbalance_ratio=1`` the training split of ``load_digits_lt`` is a balanced sample of
    the images outside its test split (which depends only on ``random_state``); a quarter of it
    is held out for validation and the rest made long-tailed.
    """
    pool = load_digits_lt(imbalance_ratio=1, random_state=seed)
    X_fit, X_valid, y_fit, y_valid = train_test_split(
        pool.X_train, pool.y_train, test_size=0.25, stratify=pool.y_train, random_state=seed
    )
    X_fit, y_fit = make_long_tailed(X_fit, y_fit, ratio, random_state=seed)
    scaler = StandardScaler().fit(X_fit)
    return scaler.transform(X_fit), y_fit, scaler.transform(X_valid), y_valid


def scores(model, X_train, y_train, X_test, y_test, class_counts):
    """Balanced accuracy, shot accuracies and, for AllNC, the neural-collapse metrics."""
    predicted = model.predict(X_test)
    shots = shot_accuracy(y_test, predicted, class_counts, many=MANY, few=FEW)
    result = {
        "balanced": balanced_accuracy_score(y_test, predicted),
        **shots[["many", "medium", "few"]].to_dict(),
    }
    if isinstance(model, AllNCClassifier):
        metrics = neural_collapse_metrics(
            model.embed(X_train),
            y_train,
            weights=model.classifier_weight_,
            bias=model.classifier_bias_,
        )
        result.update(metrics.to_dict())
        result["nc3_after_rotation"] = self_duality_after_rotation(
            model.embed(X_train), y_train, model.classifier_weight_
        )
    return result


def self_duality_after_rotation(features, labels, weights):
    """NC3's distance once the centred class means are rotated onto the classifier at best.

    ``neural_collapse_metrics`` compares the normalised classifier ``W.T`` with the normalised
    centred means ``M`` directly; here ``M`` is first multiplied by the orthogonal ``R``
    closest to mapping it onto ``W.T`` (orthogonal Procrustes). Near 0 with a large NC3 means
    the two have the same geometry in different orientations.
    """
    classes = np.unique(labels)
    means = np.stack([features[labels == c].mean(axis=0) for c in classes])
    centred = (means - features.mean(axis=0)).T
    target = weights.T / np.linalg.norm(weights)
    source = centred / np.linalg.norm(centred)
    left, _, right = np.linalg.svd(target @ source.T)
    return float(np.linalg.norm(target - left @ right @ source))


def run_models(seeds):
    """{(ratio, model): [scores per seed]} for the main comparison."""
    results = {}
    for ratio in RATIOS:
        for seed in seeds:
            X_train, y_train, X_test, y_test, counts = standardised_split(ratio, seed)
            for name, make in MODELS.items():
                model = make(seed).fit(X_train, y_train)
                results.setdefault((ratio, name), []).append(
                    scores(model, X_train, y_train, X_test, y_test, counts)
                )
    return results


def run_ablations(seeds, ratio=100):
    results = {}
    for seed in seeds:
        X_train, y_train, X_test, y_test, counts = standardised_split(ratio, seed)
        for name, params in ABLATIONS.items():
            model = AllNCClassifier(**params, random_state=seed).fit(X_train, y_train)
            results.setdefault(name, []).append(
                scores(model, X_train, y_train, X_test, y_test, counts)
            )
    return results


def run_selection(seeds):
    """{candidate: validation balanced accuracy, array of shape (n_ratios, n_seeds)}."""
    splits = {(ratio, seed): validation_split(ratio, seed) for ratio in RATIOS for seed in seeds}
    makers = {
        name: (lambda seed, params=params: AllNCClassifier(**params, random_state=seed))
        for name, params in CANDIDATES.items()
    }
    makers['LogisticRegression(class_weight="balanced")'] = MODELS[
        'LogisticRegression(class_weight="balanced")'
    ]
    results = {}
    for name, make in makers.items():
        accuracies = np.empty((len(RATIOS), len(seeds)))
        for (i, ratio), (j, seed) in itertools.product(enumerate(RATIOS), enumerate(seeds)):
            X_fit, y_fit, X_valid, y_valid = splits[ratio, seed]
            predicted = make(seed).fit(X_fit, y_fit).predict(X_valid)
            accuracies[i, j] = balanced_accuracy_score(y_valid, predicted)
        results[name] = accuracies
    return results


def mean_std(runs, key):
    values = [run[key] for run in runs]
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def mean(runs, key):
    return f"{np.mean([run[key] for run in runs]):.3f}"


def print_shot_groups(seed=0):
    print(f"Shot groups: many > {MANY}, medium {FEW}-{MANY}, few < {FEW} training images.\n")
    print("| imbalance | training images per digit 0-9 | many / medium / few digits |")
    print("|---|---|---|")
    for ratio in RATIOS:
        counts = load_digits_lt(imbalance_ratio=ratio, random_state=seed).class_counts
        groups = [(counts > MANY).sum(), ((counts >= FEW) & (counts <= MANY)).sum()]
        groups.append((counts < FEW).sum())
        print(f"| {ratio} | {', '.join(map(str, counts))} | {' / '.join(map(str, groups))} |")


def print_models(results):
    print("\n| imbalance | model | balanced accuracy | many | medium | few |")
    print("|---|---|---|---|---|---|")
    for (ratio, name), runs in results.items():
        shots = " | ".join(mean(runs, key) for key in ("many", "medium", "few"))
        print(f"| {ratio} | {name} | {mean_std(runs, 'balanced')} | {shots} |")


def print_collapse(results):
    print("\nNeural collapse of the training features (lower is more collapsed):\n")
    print("| imbalance | model | " + " | ".join(NC_COLUMNS) + " |")
    print("|---|---|" + "---|" * len(NC_COLUMNS))
    for (ratio, name), runs in results.items():
        if "nc1" in runs[0]:
            values = " | ".join(mean(runs, key) for key in NC_COLUMNS)
            print(f"| {ratio} | {name} | {values} |")


def print_ablations(results):
    print("\nAblations at imbalance 100:\n")
    print(
        "| variant | balanced accuracy | many | medium | few | nc1 | nc2_equiangularity "
        "| nc3_self_duality | nc3 after rotation |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        keys = (
            "many", "medium", "few", "nc1", "nc2_equiangularity", "nc3_self_duality",
            "nc3_after_rotation",
        )  # fmt: skip
        values = " | ".join(mean(runs, key) for key in keys)
        print(f"| {name} | {mean_std(runs, 'balanced')} | {values} |")


def print_claims(results):
    table = pd.DataFrame(
        [{"model": name, "seed": seed, **run} for name, runs in results.items()
         for seed, run in enumerate(runs)]
    )  # fmt: skip
    accuracy_claims = [
        (f"Table VI: {name} lowers balanced accuracy", "AllNC", name)
        for name in ("w/o HyCon", "w/o P2P", "w/o GBBN (gamma=0)", "w/o HyCon and P2P")
    ] + [("Table VII: AllNC beats plain CE", "AllNC", "plain CE")]
    print("\nTables VI-VII as paired comparisons at imbalance 100: balanced accuracy, mean "
          "difference over seeds ± 95% interval\n")  # fmt: skip
    print(paired_table(table, accuracy_claims, value="balanced"))
    duality_claims = [
        ("Fig. 4: P2P lowers the self-duality distance (NC3)", "w/o P2P", "AllNC"),
        ("AllNC's NC3 is below plain CE's", "plain CE", "AllNC"),
    ]
    for value in ("nc3_self_duality", "nc3_after_rotation"):
        print(f"\nSelf-duality, {value} (the first variant minus the second; > 0 supports the "
              "claim)\n")  # fmt: skip
        print(paired_table(table, duality_claims, value=value))


def print_selection(results):
    print("\nValidation balanced accuracy (non-test images only):\n")
    ratios = " | ".join(f"imbalance {ratio}" for ratio in RATIOS)
    print(f"| candidate | {ratios} | mean | difference to the default, per seed |")
    print("|---|" + "---|" * (len(RATIOS) + 2))
    default = results[DEFAULTS].mean(axis=0)
    for name, accuracies in results.items():
        cells = " | ".join(f"{value:.3f}" for value in accuracies.mean(axis=1))
        over_ratios = accuracies.mean(axis=0)
        differences = ", ".join(f"{value:+.3f}" for value in over_ratios - default)
        print(f"| {name} | {cells} | {over_ratios.mean():.3f} | {differences} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (default 10)")
    parser.add_argument(
        "--select", action="store_true", help="also run the validation study of the defaults"
    )
    arguments = parser.parse_args()
    seeds = list(range(arguments.seeds))
    start = time.perf_counter()
    print_shot_groups()
    models = run_models(seeds)
    print_models(models)
    print_collapse(models)
    ablations = run_ablations(seeds)
    print_ablations(ablations)
    print_claims(ablations)
    if arguments.select:
        print_selection(run_selection(seeds))
    print(f"\n{arguments.seeds} seeds, {time.perf_counter() - start:.0f} s in total.")


if __name__ == "__main__":
    main()
