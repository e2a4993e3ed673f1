"""The real track: ImageNet MobileNetV2 features of real images, when the user has the weights.

``ncestimators demo --weights PATH`` (a torchvision ``mobilenet_v2`` checkpoint, e.g.
ImageNet weights) adds three rows, each over the same seeds as the embedded track:

* AllNC on frozen MobileNetV2 features of long-tailed real images (the 8 x 8 digits, or
  Fashion-MNIST with ``--data``), against a balanced logistic regression and plain
  cross-entropy;
* fine-tuning MobileNetV2 from the checkpoint with the AllNC head against the frozen
  features with the same head, on a smaller long-tailed subset;
* with ``--data``, CeCo on CamVid from MobileNetV2's stride-16 feature maps, against
  cross-entropy alone (λ = 0) and a per-position logistic regression.

Features are extracted once, in memory, and shared by the seeds; each seed draws its
training images from a fixed pool and is scored on a fixed test set. Nothing is downloaded
and nothing is written outside the demo's output folder.
"""

# SPDX-License-Identifier: BSD-3-Clause

import functools
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._allnc import AllNCClassifier
from .._ceco import CeCoSegmenter
from ..datasets import load_camvid, load_fashion_mnist, make_long_tailed
from ..datasets._images import CAMVID_CLASSES
from ..metrics import iou_per_class
from . import _plots
from ._experiment import Draw, Experiment
from ._runs import PLAIN_CE, balanced_accuracy, params, timed_fit

__all__ = []

IMAGE_SIZE = 64
FROZEN_IMBALANCE, FINE_TUNE_IMBALANCE = 50, 10
# Per mode (quick or not): images a class in the pool that training draws come from, in the
# fixed test set, and in the part of the pool that fine-tuning draws from (smaller: every image
# runs through the backbone every epoch); fine-tuning epochs; CamVid's pool of training images,
# training images a draw, and val images scored (None: all 101).
SIZES = {
    False: {
        "pool": 150, "test": 50, "fine_tune_pool": 50, "fine_tune_epochs": 10,
        "camvid_pool": 120, "camvid_train": 40, "camvid_val": None,
    },
    True: {
        "pool": 20, "test": 10, "fine_tune_pool": 10, "fine_tune_epochs": 1,
        "camvid_pool": 16, "camvid_train": 8, "camvid_val": 10,
    },
}  # fmt: skip


def checkpoint(weights):
    """The checkpoint file that ``--weights`` names: a path, or ``"DEFAULT"``.

    ``"DEFAULT"`` is torchvision's ImageNet MobileNetV2 in torch's hub cache, read as a local
    checkpoint: the demo never downloads, so a missing file is a ValueError saying where to
    put it.
    """
    if weights == "DEFAULT":
        import torch
        from torchvision.models import MobileNet_V2_Weights

        url = MobileNet_V2_Weights.DEFAULT.url
        path = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name
        if not path.is_file():
            raise ValueError(
                f"--weights DEFAULT reads torchvision's ImageNet MobileNetV2 from torch's hub "
                f"cache, and {path} is not there (the demo does not download). Download {url} "
                "to that path (TORCH_HOME moves the cache), or pass --weights PATH, the path of "
                "a mobilenet_v2 checkpoint in torchvision keys."
            )
        return path
    path = Path(weights)
    if not path.is_file():
        raise ValueError(
            f"--weights {weights}: no such file. Pass the path of a mobilenet_v2 checkpoint in "
            "torchvision keys (e.g. ImageNet weights), or DEFAULT for torchvision's weights "
            "in torch's hub cache."
        )
    return path


def experiments(weights, data=None):
    """The real track's rows for the checkpoint ``weights`` and the optional data folder."""
    weights = checkpoint(weights)
    images = "Fashion-MNIST" if data else "digits"
    # One extraction for both classification rows, kept for this run only.
    extracted = functools.cache(functools.partial(classification_features, weights, data))
    rows = [
        Experiment(
            key="real_allnc",
            track="real",
            estimator="AllNCClassifier",
            data=(
                f"{images} {IMAGE_SIZE} x {IMAGE_SIZE}, long-tailed {FROZEN_IMBALANCE}:1; frozen "
                "MobileNetV2 features"
            ),
            metric="balanced accuracy",
            names={
                "ours": "AllNCClassifier",
                "plain": "LogisticRegression(class_weight='balanced')",
                "ablation": "plain cross-entropy (the same network)",
            },
            draw=frozen_allnc,
            guide="user_guide/allnc.html",
            inputs=lambda quick: without_images(extracted(quick)),
        ),
        Experiment(
            key="real_fine_tune",
            track="real",
            estimator="FineTune(AllNCClassifier)",
            data=(
                f"{images} {IMAGE_SIZE} x {IMAGE_SIZE}, long-tailed {FINE_TUNE_IMBALANCE}:1 from "
                f"{SIZES[False]['fine_tune_pool']} a class; {SIZES[False]['fine_tune_epochs']} "
                "epochs"
            ),
            metric="balanced accuracy",
            names={
                "ours": "FineTune(AllNCClassifier), MobileNetV2 trained from the checkpoint",
                "plain": "the frozen MobileNetV2 features + the same head",
            },
            draw=functools.partial(fine_tuned_allnc, weights=weights),
            guide="adapters.html",
            inputs=extracted,
        ),
    ]
    if data:
        rows.append(
            Experiment(
                key="real_ceco",
                track="real",
                estimator="CeCoSegmenter",
                data=(
                    f"CamVid 180 x 240, {SIZES[False]['camvid_train']} training images a draw; "
                    "MobileNetV2 stride-16 maps"
                ),
                metric="tail-class IoU",
                names={
                    "ours": "CeCoSegmenter",
                    "plain": "LogisticRegression per position",
                    "ablation": "λ = 0 (cross-entropy alone)",
                },
                draw=camvid_ceco,
                guide="user_guide/ceco.html",
                inputs=functools.partial(camvid_features, weights, Path(data) / "camvid"),
                figure=_plots.iou_bars,
                caption=(
                    "CamVid val pixels, predictions of the 12 x 15 stride-16 grid upsampled; "
                    "classes from most to least frequent in the first draw's training images. "
                    "The tail is where center collapse should help, but thin classes (pole, "
                    "fence, sign) cover a grid cell or less at this resolution, so every model "
                    "scores low on them."
                ),
            )
        )
    return rows


def classification_features(weights, data, quick):
    """Pool and test images, their labels and MobileNetV2's pooled features of them.

    Fashion-MNIST under ``data/fashion-mnist`` when ``data`` is given: the pool from its
    training split, the test set from its test split. Otherwise scikit-learn's 8 x 8 digits,
    split into a test set and a pool. Both take the first images of each class, so that the
    pool and the test set are the same for every seed; images are grey, float32 in [0, 1],
    resized to ``IMAGE_SIZE`` a side.
    """
    from ..adapters import BackboneFeatures

    size = SIZES[quick]
    if data:
        directory = Path(data) / "fashion-mnist"
        train_images, train_labels = load_fashion_mnist(directory, split="train")
        test_images, test_labels = load_fashion_mnist(directory, split="test")
        pool = first_of_each_class(train_labels, size["pool"])
        test = first_of_each_class(test_labels, size["test"])
        pool_images, test_images = train_images[pool] / 255, test_images[test] / 255
        pool_labels, test_labels = train_labels[pool], test_labels[test]
    else:
        digits = load_digits()
        test = first_of_each_class(digits.target, size["test"])
        rest = np.setdiff1d(np.arange(len(digits.target)), test)
        pool = rest[first_of_each_class(digits.target[rest], size["pool"])]
        pool_images, test_images = digits.images[pool] / 16, digits.images[test] / 16
        pool_labels, test_labels = digits.target[pool], digits.target[test]
    pool_images, test_images = upscaled(pool_images), upscaled(test_images)
    extractor = BackboneFeatures("mobilenet_v2", weights=weights).fit(pool_images)
    return {
        "pool_images": pool_images,
        "pool_features": extractor.transform(pool_images),
        "pool_labels": pool_labels,
        "test_images": test_images,
        "test_features": extractor.transform(test_images),
        "test_labels": test_labels,
    }


def without_images(inputs):
    return {key: value for key, value in inputs.items() if not key.endswith("_images")}


def first_of_each_class(labels, count):
    """Indices of the first ``count`` samples of every class, in index order."""
    return np.sort(
        np.concatenate([np.flatnonzero(labels == label)[:count] for label in np.unique(labels)])
    )


def upscaled(images):
    """Grey images resized to ``IMAGE_SIZE`` a side (bilinear), as float32 in [0, 1]."""
    import torch
    from torch.nn import functional as F

    resized = F.interpolate(
        torch.as_tensor(images, dtype=torch.float32)[:, None],
        size=(IMAGE_SIZE, IMAGE_SIZE),
        mode="bilinear",
        align_corners=False,
    )
    return resized[:, 0].clamp(0, 1).numpy()


def long_tailed_draw(labels, imbalance, seed, per_class=None):
    """Indices of a long-tailed training draw from the pool (the first class the largest).

    ``per_class`` draws from the first images of each class only.
    """
    candidates = np.arange(len(labels))
    if per_class is not None:
        candidates = first_of_each_class(labels, per_class)
    drawn, _ = make_long_tailed(candidates, labels[candidates], imbalance, random_state=seed)
    return drawn


def frozen_allnc(seed, quick, *, pool_features, pool_labels, test_features, test_labels):
    train = long_tailed_draw(pool_labels, FROZEN_IMBALANCE, seed)
    X_train, y_train = pool_features[train], pool_labels[train]
    settings = params(seed, quick, quick_epochs=20)
    models = {
        "ours": make_pipeline(StandardScaler(), AllNCClassifier(**settings)),
        "plain": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")
        ),
        "ablation": make_pipeline(StandardScaler(), AllNCClassifier(**settings, **PLAIN_CE)),
    }
    seconds = timed_fit(models["ours"], X_train, y_train)
    for role in ("plain", "ablation"):
        models[role].fit(X_train, y_train)
    return Draw(
        scores={
            role: balanced_accuracy(model, test_features, test_labels)
            for role, model in models.items()
        },
        fit_seconds=seconds,
    )


def fine_tuned_allnc(
    seed, quick, *, weights, pool_images, pool_features, pool_labels, test_images,
    test_features, test_labels,
):  # fmt: skip
    from ..adapters import FineTune

    size = SIZES[quick]
    train = long_tailed_draw(pool_labels, FINE_TUNE_IMBALANCE, seed, size["fine_tune_pool"])
    y_train = pool_labels[train]
    # Few images make few updates an epoch at the default batch of 128.
    head = AllNCClassifier(batch_size=32, random_state=seed)
    # A pretrained backbone wants a smaller learning rate than the new head (FineTune's
    # documentation), and a demo's budget allows a few epochs through the backbone; the
    # frozen features get the head's default epochs, which favours the alternative.
    ours = FineTune(
        clone(head).set_params(max_epochs=size["fine_tune_epochs"]),
        backbone="mobilenet_v2", weights=weights, backbone_lr=head.lr / 10, augment="shift",
    )  # fmt: skip
    plain = make_pipeline(StandardScaler(), head.set_params(**params(seed, quick, quick_epochs=20)))
    seconds = timed_fit(ours, pool_images[train], y_train)
    plain.fit(pool_features[train], y_train)
    return Draw(
        scores={
            "ours": balanced_accuracy(ours, test_images, test_labels),
            "plain": balanced_accuracy(plain, test_features, test_labels),
        },
        fit_seconds=seconds,
    )


def camvid_features(weights, directory, quick):
    """MobileNetV2's stride-16 maps of a pool of CamVid training images and of val images.

    The pool and the val subset are evenly spaced over the sorted file names, which follow
    CamVid's video sequences, so that every sequence is represented. Training labels are put
    on the feature grid by majority vote; val labels stay per pixel.
    """
    from ..adapters import DenseFeatures, downsample_labels

    size = SIZES[quick]
    train_images, train_labels = load_camvid(directory, split="train")
    val_images, val_labels = load_camvid(directory, split="val")
    pool = evenly_spaced(len(train_images), size["camvid_pool"])
    val = evenly_spaced(len(val_images), size["camvid_val"])
    extractor = DenseFeatures("mobilenet_v2", weights=weights).fit(train_images[pool])
    pool_maps = extractor.transform(train_images[pool])
    return {
        "pool_maps": pool_maps,
        "pool_labels": downsample_labels(train_labels[pool], pool_maps.shape[1:3]),
        "val_maps": extractor.transform(val_images[val]),
        "val_labels": val_labels[val],
    }


def evenly_spaced(n, count):
    """``count`` indices spread evenly over ``range(n)`` (all of them for None)."""
    if count is None or count >= n:
        return np.arange(n)
    return np.linspace(0, n - 1, count).round().astype(int)


def camvid_ceco(seed, quick, *, pool_maps, pool_labels, val_maps, val_labels):
    from ..adapters import upsample_labels

    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(len(pool_maps), SIZES[quick]["camvid_train"], replace=False))
    X_train, y_train = pool_maps[train], pool_labels[train]
    settings = params(seed, quick, quick_epochs=15)
    ours = CeCoSegmenter(**settings)
    ablation = CeCoSegmenter(lambda_center=0.0, **settings)
    seconds = timed_fit(ours, X_train, y_train)
    ablation.fit(X_train, y_train)
    positions, labels = X_train.reshape(-1, X_train.shape[-1]), y_train.reshape(-1)
    labelled = labels != ours.ignore_index
    plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    plain.fit(positions[labelled], labels[labelled])
    grid = val_maps.shape[:3]
    predicted = {
        "ours": ours.predict(val_maps),
        "plain": plain.predict(val_maps.reshape(-1, val_maps.shape[-1])).reshape(grid),
        "ablation": ablation.predict(val_maps),
    }
    iou = {
        role: iou_per_class(
            val_labels, upsample_labels(labels, val_labels.shape[1:]), len(CAMVID_CLASSES)
        )
        for role, labels in predicted.items()
    }
    # The groups of the classes seen in training, by their training frequency in this draw.
    groups = ours.iou_report(pool_maps[train], y_train)[["class", "group", "train_frequency"]]
    tail = groups["class"][groups["group"] == "tail"].to_numpy()
    reports = {
        name: groups.assign(iou=iou[role][groups["class"]], **{"class": names(groups["class"])})
        for name, role in (("CE + CeCo", "ours"), ("CE alone", "ablation"))
    }
    return Draw(
        scores={role: float(np.nanmean(values[tail])) for role, values in iou.items()},
        fit_seconds=seconds,
        plot={"reports": reports},
    )


def names(classes):
    return [CAMVID_CLASSES[label] for label in classes]
