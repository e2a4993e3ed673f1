"""Benchmark CeCoSegmenter on make_dense_segmentation: CeCo vs plain CE, Table 1 and Table 3.

For each imbalance level and seed, one data set is drawn and split into train / validation /
test images. Every variant is fitted on the train images with the same recipe and scored on the
test images: mIoU and the mean IoU of the head, common and tail thirds of the classes (ranked
by training pixel frequency). The weight lambda of the center loss is also selected on the
validation images (mean mIoU over seeds) from LAMBDAS, and the neural-collapse statistics of
the training class centers are compared for CE and CeCo (the paper's Fig. 4).

Run with ``python examples/benchmarks/bench_ceco.py [--seeds 3] [--imbalance 20 200]``;
``--tune-recipe`` instead prints the validation mIoU of the CE baseline for a few learning rates
and epoch counts (how RECIPE was chosen). The markdown report is printed; the recorded one is in
``results_ceco.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch

from ncestimators import CeCoSegmenter
from ncestimators.datasets import make_dense_segmentation
from ncestimators.geometry import neural_collapse_metrics

DATA = {
    "height": 24,
    "width": 24,
    "n_features": 64,
    "n_classes": 15,
    "context": 0.1,
    "tail_similarity": 0.97,
    "noise": 1.2,
}
N_TRAIN, N_VALID, N_TEST = 60, 20, 100
RECIPE = {"hidden_dims": (128,), "batch_size": 8, "lr": 3e-3, "max_epochs": 30, "device": "cpu"}
LAMBDAS = (0.2, 0.4, 0.8)
CE = "CE (λ=0)"
CECO = "CE + CeCo (λ=0.4)"
VARIANTS = {
    CE: {"lambda_center": 0.0},
    CECO: {},
    "Table 1: PC fixed, CC fixed": {"classifier": "fixed"},
    "Table 1: PC fixed, CC learned": {"classifier": "fixed", "center_classifier": "learned"},
    "Table 1: PC learned, CC learned": {"center_classifier": "learned"},
    "Table 3: CE + Dice": {"lambda_center": 0.0, "aux_loss": "dice"},
    "Table 3: CE + Dice + CeCo": {"aux_loss": "dice"},
    "Table 3: CE + Lovász": {"lambda_center": 0.0, "aux_loss": "lovasz"},
    "Table 3: CE + Lovász + CeCo": {"aux_loss": "lovasz"},
}
# The lambda values compared on the validation images, and the name of the fit for each.
CANDIDATES = {value: CECO if value == 0.4 else f"CE + CeCo (λ={value})" for value in LAMBDAS}
GROUPS = ("head", "common", "tail")


def split_data(imbalance, seed):
    X, y = make_dense_segmentation(
        n_images=N_TRAIN + N_VALID + N_TEST, imbalance=imbalance, random_state=seed, **DATA
    )
    cuts = np.cumsum([N_TRAIN, N_VALID])
    return np.split(X, cuts), np.split(y, cuts)


def evaluate(segmenter, X, y):
    """mIoU and the mean IoU of each frequency group."""
    report = segmenter.iou_report(X, y)
    groups = report.groupby("group")["iou"].mean()
    return {"mIoU": report["iou"].mean(), **{group: groups[group] for group in GROUPS}}


def center_geometry(segmenter, X, y):
    """NC statistics of the training class centers: centred (Papyan) and raw (CeCo's target)."""
    embeddings = segmenter.embed(X).reshape(-1, segmenter.embedding_dim_)
    labels = y.reshape(-1)
    metrics = neural_collapse_metrics(embeddings, labels)
    centers = np.stack([embeddings[labels == c].mean(axis=0) for c in np.unique(labels)])
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    cosines = (centers @ centers.T)[~np.eye(len(centers), dtype=bool)]
    return {
        "NC1": metrics["nc1"],
        "NC2 equiangularity": metrics["nc2_equiangularity"],
        "NC2 max-angle": metrics["nc2_maxangle"],
        "raw-center equiangularity": cosines.std(),
        "raw-center max-angle": np.abs(cosines + 1 / (len(centers) - 1)).mean(),
    }


def run_level(imbalance, seeds):
    """Test scores of every variant and seed, validation mIoU per lambda, center geometry."""
    test_rows, valid_rows, geometry_rows = [], [], []
    for seed in seeds:
        (X_train, X_valid, X_test), (y_train, y_valid, y_test) = split_data(imbalance, seed)
        fits = {
            **VARIANTS,
            **{name: {"lambda_center": value} for value, name in CANDIDATES.items()},
        }
        for name, params in fits.items():
            segmenter = CeCoSegmenter(random_state=seed, **RECIPE, **params)
            segmenter.fit(X_train, y_train)
            test_rows.append({"variant": name, "seed": seed, **evaluate(segmenter, X_test, y_test)})
            if (
                segmenter.lambda_center in CANDIDATES
                and name == CANDIDATES[segmenter.lambda_center]
            ):
                scores = evaluate(segmenter, X_valid, y_valid)
                valid_rows.append({"lambda": segmenter.lambda_center, "seed": seed, **scores})
            if name in (CE, CECO):
                geometry = center_geometry(segmenter, X_train, y_train)
                geometry_rows.append({"variant": name, "seed": seed, **geometry})
    return pd.DataFrame(test_rows), pd.DataFrame(valid_rows), pd.DataFrame(geometry_rows)


def mean_std(values):
    return f"{100 * values.mean():.1f} ± {100 * values.std(ddof=0):.1f}"


def scores_table(test, selected):
    """Markdown table: variant, mIoU and group IoUs (mean ± std over seeds, in %), tail gain."""
    extra = [name for name in CANDIDATES.values() if name not in VARIANTS]
    chosen = test[test["variant"] == CANDIDATES[selected]]
    chosen = chosen.assign(variant=f"CE + CeCo (λ={selected}, chosen on validation)")
    test = pd.concat([test[~test["variant"].isin(extra)], chosen])
    baseline = test[test["variant"] == CE].set_index("seed")["tail"]
    lines = [
        "| variant | mIoU | head | common | tail | Δ tail vs CE | seeds with higher tail |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rows in test.groupby("variant", sort=False):
        rows = rows.set_index("seed")
        gain = rows["tail"] - baseline[rows.index]
        cells = [mean_std(rows[column]) for column in ("mIoU", *GROUPS)]
        wins = f"{int((gain > 0).sum())}/{len(gain)}"
        lines.append(f"| {name} | {' | '.join(cells)} | {100 * gain.mean():+.1f} | {wins} |")
    return "\n".join(lines)


def selection_table(valid):
    means = valid.groupby("lambda")[["mIoU", "tail"]].mean()
    lines = ["| λ | validation mIoU | validation tail IoU |", "|---|---|---|"]
    lines += [
        f"| {value} | {100 * row['mIoU']:.1f} | {100 * row['tail']:.1f} |"
        for value, row in means.iterrows()
    ]
    return "\n".join(lines), float(means["mIoU"].idxmax())


def geometry_table(geometry):
    means = geometry.groupby("variant", sort=False).mean(numeric_only=True).drop(columns="seed")
    lines = [
        "| variant | " + " | ".join(means.columns) + " |",
        "|---" * (len(means.columns) + 1) + "|",
    ]
    lines += [
        f"| {name} | " + " | ".join(f"{value:.3f}" for value in row) + " |"
        for name, row in means.iterrows()
    ]
    return "\n".join(lines)


def tune_recipe(imbalance_levels):
    """Validation mIoU of the CE baseline (seed 0) for a few learning rates and epoch counts."""
    print("| imbalance | lr | max_epochs | validation mIoU | validation tail IoU |")
    print("|---|---|---|---|---|")
    for imbalance in imbalance_levels:
        (X_train, X_valid, _), (y_train, y_valid, _) = split_data(imbalance, seed=0)
        for lr in (1e-3, 3e-3):
            for max_epochs in (15, 30, 60):
                recipe = {**RECIPE, "lr": lr, "max_epochs": max_epochs}
                segmenter = CeCoSegmenter(lambda_center=0.0, random_state=0, **recipe)
                scores = evaluate(segmenter.fit(X_train, y_train), X_valid, y_valid)
                print(
                    f"| {imbalance} | {lr} | {max_epochs} | {100 * scores['mIoU']:.1f} | "
                    f"{100 * scores['tail']:.1f} |"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--imbalance", type=float, nargs="+", default=[20.0, 200.0])
    parser.add_argument("--tune-recipe", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.tune_recipe:
        tune_recipe(args.imbalance)
        return
    start = time.perf_counter()
    print("# `CeCoSegmenter` benchmark\n")
    print(
        f"torch {torch.__version__} (1 thread), Python {platform.python_version()}; data "
        f"`make_dense_segmentation(**{DATA})`, {N_TRAIN} train / {N_VALID} validation / "
        f"{N_TEST} test images per seed; recipe {RECIPE}; seeds 0..{args.seeds - 1}.\n"
    )
    for imbalance in args.imbalance:
        test, valid, geometry = run_level(imbalance, range(args.seeds))
        selection, selected = selection_table(valid)
        print(f"## imbalance {imbalance:g} (head/tail area ratio)\n")
        print("Test IoU in %, mean ± std over seeds:\n")
        print(scores_table(test, selected), "\n")
        print(f"λ chosen on validation mIoU: {selected}\n")
        print(selection, "\n")
        print("Geometry of the training class centers (lower is closer to a simplex ETF):\n")
        print(geometry_table(geometry), "\n")
    print(f"Total time: {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
