"""The real track: ImageNet MobileNetV2 on real images (Fashion-MNIST, CamVid), at the defaults.

Every other benchmark uses the library's generators or 8 x 8 digits. Here the inputs are real
images and the backbone is a real ImageNet MobileNetV2 (torchvision keys, from
``../shared/data``; its README says whence), and every estimator runs at its defaults. Each
claim is a paired comparison over seeds (mean difference with its 95 % Student-t interval,
wins, verdict), as in the other scripts. No choice uses test data: each seed draws its
training split from the Fashion-MNIST training images and is scored on a fixed balanced
subset of the test images; CamVid trains on ``train`` and is scored on ``val`` (its test
split is not shipped).

Sections:

1. ``AllNCClassifier`` on long-tailed Fashion-MNIST (the CIFAR-LT profile from 500 images a
   class, imbalance 10, 50, 100) from frozen 1280-d features of 96 x 96 images, against
   ``LogisticRegression`` (plain and ``class_weight="balanced"``) and the same network trained
   with plain cross-entropy; every model behind a ``StandardScaler``.
2. ``DynamicPrototypeClassifier`` on the same features: at its default ``prototype_dim``
   (c/2) against ``LogisticRegression``, and in its own regime, d = 2 and 3 for 10 classes,
   against static assignment (the paper's ablation) and a linear model of the same output
   dimension (``PCA(d)`` then ``LogisticRegression``).
3. ``CeCoSegmenter`` on CamVid from ``DenseFeatures`` (MobileNetV2's stride-16 map
   ``features.13``, 96 channels, of the images upsampled x2 to CamVid's native 360 x 480):
   against the same network with ``lambda_center=0`` and a per-position
   ``LogisticRegression``; IoU on the val images' pixels (predictions upsampled).
4. ``FineTune(AllNCClassifier)`` from the ImageNet weights on a small long-tailed
   Fashion-MNIST (100 images a class, imbalance 10, 64 x 64 images: the CPU budget) against
   the frozen ImageNet features with the same head and with a balanced
   ``LogisticRegression``.

Features are extracted once and cached under ``examples/output/real``. Run with
``OMP_NUM_THREADS=1 python examples/benchmarks/bench_real.py [--seeds 5] [--data DIR]``;
without the data folder the script says so and stops.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _paired import paired_table
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.nn import functional as F

from ncestimators import AllNCClassifier, CeCoSegmenter, DynamicPrototypeClassifier
from ncestimators._demo._runs import PLAIN_CE
from ncestimators.adapters import (
    BackboneFeatures,
    DenseFeatures,
    FineTune,
    downsample_labels,
    upsample_labels,
)
from ncestimators.datasets import load_camvid, load_fashion_mnist, make_long_tailed
from ncestimators.metrics import iou_per_class

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CACHE = Path(__file__).resolve().parents[1] / "output" / "real"
WEIGHTS = "mobilenet_v2_imagenet_features.pt"
POOL_PER_CLASS, TEST_PER_CLASS, LT_PER_CLASS = 1200, 300, 500
RATIOS = (10, 50, 100)
IMAGE_SIZE = 96
CAMVID_CLASSES = 11
N_TAIL = 4  # the rarest classes of CamVid's training pixels: bicyclist, pedestrian, pole, fence
FINE_TUNE = {"per_class": 100, "ratio": 10, "size": 64, "epochs": 10}


def resized(images, size):
    """Grey uint8 images ``(n, h, w)`` resized to ``size`` x ``size`` (antialiased), uint8."""
    grey = torch.from_numpy(images).float()[:, None]
    out = F.interpolate(grey, size=(size, size), mode="bilinear", antialias=True)
    return out.round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()


def fashion_mnist_pools(data):
    """The first images of each class: a training pool and a balanced test subset."""
    pools = {}
    for split, per_class in (("train", POOL_PER_CLASS), ("test", TEST_PER_CLASS)):
        images, labels = load_fashion_mnist(data / "fashion-mnist", split)
        index = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
        pools[split] = images[index], labels[index]
    return pools


def cached(name, compute):
    """``compute()``'s dict of arrays, kept in ``CACHE/name.npz`` for later runs."""
    path = CACHE / f"{name}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return dict(stored)
    arrays = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def fashion_mnist_features(pools, weights):
    def extract():
        extractor = BackboneFeatures("mobilenet_v2", weights=weights, batch_size=128)
        return {
            f"{key}_{split}": value
            for split, (images, labels) in pools.items()
            for key, value in (
                ("X", extractor.fit_transform(resized(images, IMAGE_SIZE))),
                ("y", labels),
            )
        }

    return cached(f"fashion_mnist_mobilenet_v2_{IMAGE_SIZE}", extract)


def long_tailed_draw(X, y, ratio, seed, per_class=LT_PER_CLASS):
    """A long-tailed training split drawn from the pool by ``seed``."""
    rng = np.random.default_rng(seed)
    index = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in range(10)])
    return make_long_tailed(X[np.sort(index)], y[np.sort(index)], ratio, random_state=seed)


def scaled(model):
    return make_pipeline(StandardScaler(), model)


def linear(class_weight=None):
    return LogisticRegression(max_iter=3000, class_weight=class_weight)


def score_models(models, X_train, y_train, X_test, y_test):
    """Balanced accuracy of each model fitted on the training split."""
    return {
        name: balanced_accuracy_score(y_test, model.fit(X_train, y_train).predict(X_test))
        for name, model in models.items()
    }


def means(table, value):
    grouped = table.groupby(["setting", "model"], sort=False)[value]
    return grouped.agg(lambda v: f"{v.mean():.3f} ± {v.std():.3f}").unstack("setting")


def paired_by_setting(table, claims, value):
    """One paired table per setting, stacked with the setting as the first column."""
    parts = []
    for setting, rows in table.groupby("setting", sort=False):
        text = paired_table(rows, claims, value=value)
        parts.append(f"*{setting}*\n\n{text}")
    return "\n\n".join(parts)


def allnc_section(features, seeds):
    rows = []
    for ratio in RATIOS:
        for seed in seeds:
            X, y = long_tailed_draw(features["X_train"], features["y_train"], ratio, seed)
            models = {
                "AllNC": scaled(AllNCClassifier(random_state=seed)),
                "plain CE (same network)": scaled(AllNCClassifier(**PLAIN_CE, random_state=seed)),
                "LogisticRegression": scaled(linear()),
                "LogisticRegression(balanced)": scaled(linear("balanced")),
            }
            scores = score_models(models, X, y, features["X_test"], features["y_test"])
            rows += [
                {"setting": f"imbalance {ratio}", "model": name, "seed": seed, "bacc": value}
                for name, value in scores.items()
            ]
    table = pd.DataFrame(rows)
    claims = [
        ("AllNC beats balanced LogisticRegression", "AllNC", "LogisticRegression(balanced)"),
        ("AllNC beats plain CE (Table VII)", "AllNC", "plain CE (same network)"),
        ("AllNC beats LogisticRegression", "AllNC", "LogisticRegression"),
    ]
    print("### 1. AllNCClassifier, long-tailed Fashion-MNIST, frozen MobileNetV2 features\n")
    print(f"Training: {LT_PER_CLASS} images of the most frequent class down to "
          f"{LT_PER_CLASS}/imbalance; test: {TEST_PER_CLASS} images a class. Balanced "
          "accuracy, mean ± std over seeds:\n")  # fmt: skip
    print(means(table, "bacc").to_markdown(), "\n")
    print("Paired differences of balanced accuracy:\n")
    print(paired_by_setting(table, claims, "bacc"), "\n")


def dynamic_prototype_section(features, seeds):
    rows = []
    X_test, y_test = features["X_test"], features["y_test"]
    for ratio in (1, 10):
        for seed in seeds:
            X, y = long_tailed_draw(features["X_train"], features["y_train"], ratio, seed)
            models = {
                "DPC (d = c/2 = 5)": scaled(DynamicPrototypeClassifier(random_state=seed)),
                "LogisticRegression": scaled(linear()),
            }
            for dim in (2, 3):
                params = {"prototype_dim": dim, "random_state": seed}
                models[f"DPC d = {dim}"] = scaled(DynamicPrototypeClassifier(**params))
                models[f"DPC d = {dim}, static"] = scaled(
                    DynamicPrototypeClassifier(**params, assignment="static")
                )
                models[f"PCA({dim}) + LogisticRegression"] = scaled(
                    make_pipeline(PCA(dim, random_state=seed), linear())
                )
            scores = score_models(models, X, y, X_test, y_test)
            rows += [
                {"setting": f"imbalance {ratio}", "model": name, "seed": seed, "bacc": value}
                for name, value in scores.items()
            ]
    table = pd.DataFrame(rows)
    claims = [
        ("DPC at its default d beats LogisticRegression", "DPC (d = c/2 = 5)",
         "LogisticRegression"),
        *[
            claim
            for dim in (2, 3)
            for claim in (
                (f"d = {dim}: dynamic beats static (Fig. 4a)", f"DPC d = {dim}",
                 f"DPC d = {dim}, static"),
                (f"d = {dim}: DPC beats a linear model of dimension {dim}", f"DPC d = {dim}",
                 f"PCA({dim}) + LogisticRegression"),
            )
        ],
    ]  # fmt: skip
    print("### 2. DynamicPrototypeClassifier on the same features\n")
    print(f"Training: {LT_PER_CLASS} images a class (imbalance 1) or long-tailed (10). "
          "Balanced accuracy, mean ± std over seeds:\n")  # fmt: skip
    print(means(table, "bacc").to_markdown(), "\n")
    print("Paired differences of balanced accuracy:\n")
    print(paired_by_setting(table, claims, "bacc"), "\n")


def camvid_features(data, weights):
    def extract():
        arrays = {}
        extractor = DenseFeatures("mobilenet_v2", weights=weights, batch_size=16)
        for split in ("train", "val"):
            images, labels = load_camvid(data / "camvid", split)
            upsampled = F.interpolate(
                torch.from_numpy(images).permute(0, 3, 1, 2).float(), scale_factor=2,
                mode="bilinear", align_corners=False,
            )  # fmt: skip
            upsampled = upsampled.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
            arrays[f"X_{split}"] = extractor.fit_transform(upsampled.numpy())
            arrays[f"y_{split}"] = labels.astype(np.int8)
        return arrays

    return cached("camvid_mobilenet_v2_stride16_x2", extract)


def camvid_scores(predicted_grid, labels, tail):
    iou = iou_per_class(labels, upsample_labels(predicted_grid, labels.shape[1:]), CAMVID_CLASSES)
    return {"mIoU": float(np.nanmean(iou)), "tail IoU": float(np.nanmean(iou[tail]))}


def ceco_section(features, seeds):
    X_train, X_val = features["X_train"], features["X_val"]
    y_train, y_val = features["y_train"].astype(np.int64), features["y_val"].astype(np.int64)
    grid = X_train.shape[1:3]
    y_grid = downsample_labels(y_train, grid)
    counts = np.bincount(y_train[y_train >= 0], minlength=CAMVID_CLASSES)
    tail = np.argsort(counts)[:N_TAIL]
    scaler = StandardScaler().fit(X_train.reshape(-1, X_train.shape[-1]))

    def standardised(maps):
        return scaler.transform(maps.reshape(-1, maps.shape[-1])).reshape(maps.shape)

    X_train, X_val = standardised(X_train), standardised(X_val)
    labelled = y_grid.reshape(-1) >= 0
    positions = LogisticRegression(max_iter=500).fit(
        X_train.reshape(-1, X_train.shape[-1])[labelled], y_grid.reshape(-1)[labelled]
    )
    linear_scores = camvid_scores(
        positions.predict(X_val.reshape(-1, X_val.shape[-1])).reshape(len(X_val), *grid),
        y_val, tail,
    )  # fmt: skip
    rows = []
    for seed in seeds:
        rows.append({"model": "LogisticRegression per position", "seed": seed, **linear_scores})
        for name, params in (("CeCo", {}), ("CE alone (λ = 0)", {"lambda_center": 0.0})):
            segmenter = CeCoSegmenter(random_state=seed, **params).fit(X_train, y_grid)
            scores = camvid_scores(segmenter.predict(X_val), y_val, tail)
            rows.append({"model": name, "seed": seed, **scores})
    table = pd.DataFrame(rows)
    claims = [
        ("CeCo beats CE alone", "CeCo", "CE alone (λ = 0)"),
        ("CeCo beats a per-position LogisticRegression", "CeCo",
         "LogisticRegression per position"),
    ]  # fmt: skip
    print("### 3. CeCoSegmenter on CamVid (train → val), MobileNetV2 stride-16 features\n")
    print(f"Feature grid {grid[0]} x {grid[1]}, 96 channels, standardised; labels "
          "majority-voted onto the grid for training, predictions upsampled to the 180 x 240 "
          f"pixels for scoring. Tail: the {N_TAIL} rarest training classes "
          f"({', '.join(map(str, tail))}). IoU, mean ± std over seeds (the linear model is "
          "deterministic):\n")  # fmt: skip
    summary = table.groupby("model", sort=False)[["mIoU", "tail IoU"]]
    print(summary.agg(lambda v: f"{v.mean():.3f} ± {v.std():.3f}").to_markdown(), "\n")
    for value in ("mIoU", "tail IoU"):
        print(f"Paired differences of {value}:\n")
        print(paired_table(table, claims, value=value), "\n")


def fine_tune_section(pools, weights, seeds):
    images, labels = pools["train"]
    test_images, test_labels = pools["test"]
    size, epochs = FINE_TUNE["size"], FINE_TUNE["epochs"]
    test_images = resized(test_images, size)
    extractor = BackboneFeatures("mobilenet_v2", weights=weights, batch_size=128)
    rows = []
    for seed in seeds:
        X, y = long_tailed_draw(images, labels, FINE_TUNE["ratio"], seed, FINE_TUNE["per_class"])
        X = resized(X, size)
        head = {"random_state": seed, "max_epochs": epochs}
        models = {
            "FineTune(AllNC) from ImageNet": FineTune(
                AllNCClassifier(**head), backbone="mobilenet_v2", weights=weights,
                backbone_lr=1e-4, augment="standard",
            ),
            "frozen ImageNet features + AllNC": make_pipeline(
                extractor, StandardScaler(), AllNCClassifier(random_state=seed)
            ),
            "frozen ImageNet features + LogisticRegression(balanced)": make_pipeline(
                extractor, StandardScaler(), linear("balanced")
            ),
        }  # fmt: skip
        scores = score_models(models, X, y, test_images, test_labels)
        rows += [{"model": name, "seed": seed, "bacc": value} for name, value in scores.items()]
    table = pd.DataFrame(rows)
    claims = [
        ("fine-tuning beats the frozen features with the same head",
         "FineTune(AllNC) from ImageNet", "frozen ImageNet features + AllNC"),
        ("fine-tuning beats balanced LogisticRegression on the frozen features",
         "FineTune(AllNC) from ImageNet",
         "frozen ImageNet features + LogisticRegression(balanced)"),
    ]  # fmt: skip
    print("### 4. FineTune from ImageNet weights, long-tailed Fashion-MNIST\n")
    print(f"{FINE_TUNE['per_class']} images of the most frequent class, imbalance "
          f"{FINE_TUNE['ratio']}, {size} x {size} images (the CPU budget); FineTune trains "
          f"{epochs} epochs with backbone_lr=1e-4 and augment='standard', the frozen models "
          "use the defaults. Test: the balanced subset above. Balanced accuracy, mean ± std:"
          "\n")  # fmt: skip
    summary = table.groupby("model", sort=False)["bacc"]
    print(summary.agg(lambda v: f"{v.mean():.3f} ± {v.std():.3f}").to_frame().to_markdown(), "\n")
    print("Paired differences of balanced accuracy:\n")
    print(paired_table(table, claims, value="bacc"), "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument(
        "--sections", nargs="+", default=["allnc", "dpc", "ceco", "finetune"],
        choices=["allnc", "dpc", "ceco", "finetune"],
    )  # fmt: skip
    args = parser.parse_args()
    weights = args.data / WEIGHTS
    if not weights.is_file():
        print(f"Skipped: {weights} is absent; pass --data with the folder of real data.")
        return
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    start = time.perf_counter()
    seeds = range(args.seeds)
    print(f"Weights: {weights.name}; seeds 0..{args.seeds - 1}; estimators at their defaults.\n")
    pools = fashion_mnist_pools(args.data)
    if {"allnc", "dpc"} & set(args.sections):
        features = fashion_mnist_features(pools, weights)
    if "allnc" in args.sections:
        allnc_section(features, seeds)
    if "dpc" in args.sections:
        dynamic_prototype_section(features, seeds)
    if "ceco" in args.sections:
        ceco_section(camvid_features(args.data, weights), seeds)
    if "finetune" in args.sections:
        fine_tune_section(pools, weights, seeds)
    print(f"Total time: {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
