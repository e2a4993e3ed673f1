"""The demo's experiments: each estimator, a plain scikit-learn baseline and the paper's ablation.

Every run returns a :class:`Run`: one row of the demo's table and what its plot needs. Data are
the library's own (real digits for the classifiers, the generators for the other tasks);
nothing is downloaded. ``quick`` shrinks data and epochs so that all runs take seconds.
"""

# SPDX-License-Identifier: BSD-3-Clause

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from .._allnc import AllNCClassifier
from .._ceco import CeCoSegmenter
from .._clusterfb import ClusterFBSeparator
from .._clusterfb._proposals import action_proposals
from .._cofinai import CoFInAIRegressor
from .._dynamic_prototype import DynamicPrototypeClassifier
from ..datasets import (
    load_digits_lt,
    make_aqa_sequences,
    make_dense_segmentation,
    make_wtal_videos,
)
from ..geometry import neural_collapse_metrics
from ..metrics import iou_per_class, localization_map, segments_to_frame, srcc

__all__ = []

# AllNC's ablation: every one of its terms off, the plain cross-entropy classifier.
PLAIN_CE = {
    "alpha": 0.0,
    "p2p": False,
    "rebalance_power": 0.0,
    "feature_noise": 0.0,
    "feature_dropout": 0.0,
}


@dataclass
class Run:
    """One row of the demo's table, and the data of its plot."""

    estimator: str
    data: str
    metric: str
    ours: float
    baseline: str
    baseline_score: float
    ablation: str
    ablation_score: float
    fit_seconds: float
    plot: dict = field(default_factory=dict, repr=False)

    def row(self):
        return {
            "estimator": self.estimator,
            "data": self.data,
            "metric": self.metric,
            "ours": self.ours,
            "baseline": self.baseline_score,
            "which baseline": self.baseline,
            "ablation": self.ablation_score,
            "which ablation": self.ablation or "–",
            "fit seconds": self.fit_seconds,
        }


class EpochBar(Callback):
    """A progress bar over the epochs of one fit, for the demo's console."""

    def __init__(self, description):
        self.description = description

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=net.max_epochs, desc=self.description, unit="epoch", leave=False)

    def on_epoch_end(self, net, **kwargs):
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


def _balanced_accuracy(model, X, y):
    return balanced_accuracy_score(y, model.predict(X))


def _params(random_state, quick, *, quick_epochs):
    """The estimator's defaults (fewer epochs in a quick run) and the demo's seed."""
    return {"random_state": random_state, **({"max_epochs": quick_epochs} if quick else {})}


def _timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def _with_bar(estimator, description):
    return estimator.set_params(callbacks=[EpochBar(description)])


def allnc(quick, random_state=0):
    """AllNC vs plain cross-entropy vs balanced logistic regression on long-tailed digits."""
    data = load_digits_lt(imbalance_ratio=50, random_state=random_state)
    scaler = StandardScaler().fit(data.X_train)
    X_train, X_test = scaler.transform(data.X_train), scaler.transform(data.X_test)
    params = _params(random_state, quick, quick_epochs=40)
    ours = _with_bar(AllNCClassifier(**params), "AllNC")
    plain = _with_bar(AllNCClassifier(**params, **PLAIN_CE), "AllNC, plain CE")
    baseline = LogisticRegression(max_iter=2000, class_weight="balanced")
    seconds = _timed_fit(ours, X_train, data.y_train)
    for model in (plain, baseline):
        model.fit(X_train, data.y_train)

    return Run(
        estimator="AllNCClassifier",
        data="digits, long-tailed 50:1 (real)",
        metric="balanced accuracy",
        ours=_balanced_accuracy(ours, X_test, data.y_test),
        baseline="LogisticRegression(class_weight='balanced')",
        baseline_score=_balanced_accuracy(baseline, X_test, data.y_test),
        ablation="plain cross-entropy",
        ablation_score=_balanced_accuracy(plain, X_test, data.y_test),
        fit_seconds=seconds,
        plot={
            "means": {
                name: _class_mean_cosines(model.embed(X_train), data.y_train)
                for name, model in (("plain cross-entropy", plain), ("AllNC", ours))
            },
            "equiangularity": {
                name: float(
                    neural_collapse_metrics(model.embed(X_train), data.y_train)[
                        "nc2_equiangularity"
                    ]
                )
                for name, model in (("plain cross-entropy", plain), ("AllNC", ours))
            },
        },
    )


def _class_mean_cosines(features, labels):
    """Cosines between the globally centred class means of ``features``."""
    classes = np.unique(labels)
    means = np.stack([features[labels == label].mean(axis=0) for label in classes])
    means -= features.mean(axis=0)
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    return means @ means.T


def dynamic_prototype(quick, random_state=0):
    """Prototypes on a circle (d = 2) for the ten digits: learned vs fixed assignment."""
    data = load_digits_lt(imbalance_ratio=1, random_state=random_state)
    scaler = StandardScaler().fit(data.X_train)
    X_train, X_test = scaler.transform(data.X_train), scaler.transform(data.X_test)
    params = {"prototype_dim": 2, **_params(random_state, quick, quick_epochs=30)}
    ours = _with_bar(DynamicPrototypeClassifier(**params), "DL2PA")
    static = _with_bar(DynamicPrototypeClassifier(assignment="static", **params), "DL2PA, static")
    baseline = LogisticRegression(max_iter=2000)
    seconds = _timed_fit(ours, X_train, data.y_train)
    for model in (static, baseline):
        model.fit(X_train, data.y_train)

    embeddings = ours._forward(X_test, method="embed").numpy()
    return Run(
        estimator="DynamicPrototypeClassifier",
        data="digits on a circle, d = 2 (real)",
        metric="balanced accuracy",
        ours=_balanced_accuracy(ours, X_test, data.y_test),
        baseline="LogisticRegression",
        baseline_score=_balanced_accuracy(baseline, X_test, data.y_test),
        ablation="static assignment",
        ablation_score=_balanced_accuracy(static, X_test, data.y_test),
        fit_seconds=seconds,
        plot={
            "prototypes": ours.prototypes_,
            "assignment": ours.assignment_,
            "classes": ours.classes_,
            "embeddings": embeddings,
            "labels": data.y_test,
        },
    )


def cofinai(quick, random_state=0):
    """Coarse-to-fine scoring vs ridge regression on mean-pooled clips, and without TFM."""
    X, y = make_aqa_sequences(n_videos=90 if quick else 300, random_state=random_state)
    n_train = len(y) * 2 // 3
    params = _params(random_state, quick, quick_epochs=40)
    ours = _with_bar(CoFInAIRegressor(**params), "CoFInAI")
    ablated = _with_bar(CoFInAIRegressor(temporal_fusion=False, **params), "CoFInAI, w/o TFM")
    pooled = np.stack([clips.mean(axis=0) for clips in X])
    baseline = RidgeCV().fit(pooled[:n_train], y[:n_train])
    seconds = _timed_fit(ours, X[:n_train], y[:n_train])
    ablated.fit(X[:n_train], y[:n_train])
    predicted = ours.predict(X[n_train:])
    return Run(
        estimator="CoFInAIRegressor",
        data="make_aqa_sequences",
        metric="Spearman SRCC",
        ours=srcc(y[n_train:], predicted),
        baseline="RidgeCV on mean-pooled clips",
        baseline_score=srcc(y[n_train:], baseline.predict(pooled[n_train:])),
        ablation="w/o temporal fusion (TFM)",
        ablation_score=ablated.score(X[n_train:], y[n_train:]),
        fit_seconds=seconds,
        plot={
            "true": y[n_train:],
            "predicted": predicted,
            "score_range": ours.score_range_,
            "n_grades": ours.n_grades,
        },
    )


def clusterfb(quick, random_state=0):
    """CASE vs its two-branch baseline (clustering off) vs per-snippet logistic regression."""
    X, y, segments = make_wtal_videos(n_videos=60 if quick else 200, random_state=random_state)
    n_train = len(X) * 3 // 4
    params = _params(random_state, quick, quick_epochs=20)
    ours = _with_bar(ClusterFBSeparator(**params), "CASE")
    ablated = _with_bar(
        ClusterFBSeparator(lambda_cluster=0.0, lambda_cluster_cls=0.0, **params),
        "CASE, clustering off",
    )
    seconds = _timed_fit(ours, X[:n_train], y[:n_train])
    ablated.fit(X[:n_train], y[:n_train])
    test, truth = X[n_train:], segments[n_train:]
    baseline = _pooled_snippet_baseline(X[:n_train], y[:n_train], test)
    return Run(
        estimator="ClusterFBSeparator",
        data="make_wtal_videos",
        metric="mAP@tIoU 0.1:0.7",
        ours=ours.score(test, y[n_train:], segments=truth),
        baseline="LogisticRegression on pooled videos, per snippet",
        baseline_score=float(localization_map(segments_to_frame(truth), baseline)["mean"]),
        ablation="clustering off (CASE's baseline)",
        ablation_score=ablated.score(test, y[n_train:], segments=truth),
        fit_seconds=seconds,
        plot={
            "foreground": ours.foreground_proba(test[:3]),
            "segments": truth[:3],
            "labels": y[n_train:][:3],
        },
    )


def _pooled_snippet_baseline(X_train, y_train, X_test):
    """Proposals of a video classifier on mean-pooled features, applied to every snippet.

    One logistic regression per class (the labels are multi-hot); each class a video is
    predicted to contain is localised from the classifier's scores of its snippets.
    """
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000)))
    model.fit(np.stack([video.mean(axis=0) for video in X_train]), y_train)
    rows = []
    for index, video in enumerate(X_test):
        snippet_proba = model.predict_proba(video)
        video_proba = model.predict_proba(video.mean(axis=0, keepdims=True))[0]
        present = np.flatnonzero(video_proba >= 0.5)
        for label in present if len(present) else [int(video_proba.argmax())]:
            for start, end, score in action_proposals(snippet_proba[:, label], video_proba[label]):
                rows.append((index, label, start, end, score))
    return pd.DataFrame(rows, columns=["video", "label", "start", "end", "score"])


def ceco(quick, random_state=0):
    """CE + center collapse vs CE alone vs per-pixel logistic regression, at 200:1 imbalance.

    With 30 training images the rare classes have few labelled pixels, where the regulariser
    pays (``examples/benchmarks/results_ceco.md``: +5.2 tail IoU over 10 draws).
    """
    n_train, n_test = (20, 10) if quick else (30, 40)
    X, y = make_dense_segmentation(
        n_images=n_train + n_test, imbalance=200, random_state=random_state
    )
    params = _params(random_state, quick, quick_epochs=40)
    ours = _with_bar(CeCoSegmenter(**params), "CeCo")
    plain = _with_bar(CeCoSegmenter(lambda_center=0.0, **params), "CeCo, λ = 0")
    seconds = _timed_fit(ours, X[:n_train], y[:n_train])
    plain.fit(X[:n_train], y[:n_train])
    pixels = X.reshape(-1, X.shape[-1])
    labels = y.reshape(-1)
    n_train_pixels = n_train * X.shape[1] * X.shape[2]
    baseline = LogisticRegression(max_iter=500).fit(
        pixels[:n_train_pixels], labels[:n_train_pixels]
    )
    reports = {
        "CE + CeCo": ours.iou_report(X[n_train:], y[n_train:]),
        "CE alone": plain.iou_report(X[n_train:], y[n_train:]),
    }
    baseline_iou = iou_per_class(
        np.searchsorted(ours.classes_, labels[n_train_pixels:]),
        np.searchsorted(ours.classes_, baseline.predict(pixels[n_train_pixels:])),
        len(ours.classes_),
    )
    tail = reports["CE + CeCo"]["group"] == "tail"
    return Run(
        estimator="CeCoSegmenter",
        data="make_dense_segmentation, 200:1, 30 training images",
        metric="tail-class IoU",
        ours=float(reports["CE + CeCo"]["iou"][tail].mean()),
        baseline="LogisticRegression per pixel",
        baseline_score=float(np.nanmean(baseline_iou[tail.to_numpy()])),
        ablation="λ = 0 (cross-entropy alone)",
        ablation_score=float(reports["CE alone"]["iou"][tail].mean()),
        fit_seconds=seconds,
        plot={"reports": reports},
    )


def fine_tune(quick, random_state=0):
    """A small CNN trained from scratch on digit images with the AllNC head (vision extra)."""
    import torch
    from torch import nn

    from ..adapters import BackboneFeatures, FineTune

    data = load_digits_lt(imbalance_ratio=1, random_state=random_state)
    train = np.kron(data.X_train.reshape(-1, 8, 8), np.ones((2, 2))).astype(np.float32) / 16
    test = np.kron(data.X_test.reshape(-1, 8, 8), np.ones((2, 2))).astype(np.float32) / 16

    def cnn():
        return nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip

    params = {"random_state": random_state, "batch_size": 32, "max_epochs": 3 if quick else 20}
    torch.manual_seed(random_state)
    backbone = cnn()
    ours = FineTune(
        _with_bar(DynamicPrototypeClassifier(**params), "FineTune"), backbone=backbone,
        augment="shift",
    )  # fmt: skip
    frozen = make_pipeline(
        BackboneFeatures(backbone, device="auto"), StandardScaler(),
        DynamicPrototypeClassifier(**params),
    )  # fmt: skip
    seconds = _timed_fit(ours, train, data.y_train)
    frozen.fit(train, data.y_train)

    return Run(
        estimator="FineTune(AllNCClassifier)",
        data="digit images 16 x 16 (real), CNN from scratch",
        metric="balanced accuracy",
        ours=_balanced_accuracy(ours, test, data.y_test),
        baseline="the same CNN frozen at random + the head",
        baseline_score=_balanced_accuracy(frozen, test, data.y_test),
        ablation=None,
        ablation_score=np.nan,
        fit_seconds=seconds,
    )


RUNS = (allnc, dynamic_prototype, cofinai, clusterfb, ceco)
