"""The embedded track: each estimator in the regime it is for, on data shipped with the library.

Real digits for AllNC and fine-tuning, the generators (data with a known structure) for the
other tasks; nothing is downloaded. Each experiment runs one seed: a new draw of the data,
and every model seeded with it. Our estimators run at their defaults; ``quick`` lowers
``max_epochs`` (and the data sizes of the slowest rows), so quick numbers are a smoke run,
not results. The regimes follow ``examples/benchmarks/results_*.md``, which say where each
method pays and where it does not.
"""

# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
    make_superclass_features,
    make_wtal_videos,
)
from ..metrics import iou_per_class, localization_map, segments_to_frame, srcc
from . import _plots
from ._experiment import Draw, Experiment

__all__ = []

# AllNC's ablation: every one of its terms off, the plain cross-entropy classifier.
PLAIN_CE = {
    "alpha": 0.0,
    "p2p": False,
    "rebalance_power": 0.0,
    "feature_noise": 0.0,
    "feature_dropout": 0.0,
}
# DL2PA's regime: many classes on a sphere of few dimensions (d << c), classes that come in
# groups (super-classes) for the learned assignment to find.
N_CLASSES, N_SUPERCLASSES, PROTOTYPE_DIM = 20, 4, 3


def params(random_state, quick, *, quick_epochs):
    """The estimator's defaults (fewer epochs in a quick run) and the draw's seed."""
    return {"random_state": random_state, **({"max_epochs": quick_epochs} if quick else {})}


def timed_fit(model, X, y):
    """Fit ``model`` and return the seconds it took."""
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def balanced_accuracy(model, X, y):
    return balanced_accuracy_score(y, model.predict(X))


def scaled(X_train, X_test):
    """Both splits standardised with the training split's statistics."""
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def allnc(seed, quick):
    data = load_digits_lt(imbalance_ratio=50, random_state=seed)
    X_train, X_test = scaled(data.X_train, data.X_test)
    settings = params(seed, quick, quick_epochs=20)
    ours = AllNCClassifier(**settings)
    ablation = AllNCClassifier(**settings, **PLAIN_CE)
    plain = LogisticRegression(max_iter=2000, class_weight="balanced")
    seconds = timed_fit(ours, X_train, data.y_train)
    for model in (plain, ablation):
        model.fit(X_train, data.y_train)
    models = {"ours": ours, "plain": plain, "ablation": ablation}
    return Draw(
        scores={
            role: balanced_accuracy(model, X_test, data.y_test) for role, model in models.items()
        },
        fit_seconds=seconds,
        plot={
            "labels": data.y_train,
            "embeddings": {
                "plain cross-entropy": ablation.embed(X_train),
                "AllNC": ours.embed(X_train),
            },
        },
    )


def dynamic_prototype(seed, quick):
    X, y, superclass = make_superclass_features(
        n_classes=N_CLASSES, n_superclasses=N_SUPERCLASSES, n_samples=2000,
        return_superclasses=True, random_state=seed,
    )  # fmt: skip
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=seed
    )
    X_train, X_test = scaled(X_train, X_test)
    settings = {"prototype_dim": PROTOTYPE_DIM, **params(seed, quick, quick_epochs=15)}
    ours = DynamicPrototypeClassifier(**settings)
    ablation = DynamicPrototypeClassifier(assignment="static", **settings)
    plain = make_pipeline(
        LinearDiscriminantAnalysis(n_components=PROTOTYPE_DIM), LogisticRegression(max_iter=2000)
    )
    reference = LogisticRegression(max_iter=2000)
    seconds = timed_fit(ours, X_train, y_train)
    for model in (ablation, plain, reference):
        model.fit(X_train, y_train)
    models = {"ours": ours, "ablation": ablation, "plain": plain, "reference": reference}
    return Draw(
        scores={role: balanced_accuracy(model, X_test, y_test) for role, model in models.items()},
        fit_seconds=seconds,
        plot={
            "superclass": superclass,
            "models": {"learned assignment": ours, "static assignment": ablation},
        },
    )


def cofinai(seed, quick):
    X, y = make_aqa_sequences(n_videos=90 if quick else 300, random_state=seed)
    n_train = len(y) * 2 // 3
    settings = params(seed, quick, quick_epochs=20)
    ours = CoFInAIRegressor(**settings)
    ablation = CoFInAIRegressor(temporal_fusion=False, **settings)
    pooled = np.stack([clips.mean(axis=0) for clips in X])
    plain = RidgeCV().fit(pooled[:n_train], y[:n_train])
    seconds = timed_fit(ours, X[:n_train], y[:n_train])
    ablation.fit(X[:n_train], y[:n_train])
    predicted = ours.predict(X[n_train:])
    return Draw(
        scores={
            "ours": srcc(y[n_train:], predicted),
            "plain": srcc(y[n_train:], plain.predict(pooled[n_train:])),
            "ablation": ablation.score(X[n_train:], y[n_train:]),
        },
        fit_seconds=seconds,
        plot={
            "true": y[n_train:],
            "predicted": predicted,
            "score_range": ours.score_range_,
            "n_grades": ours.n_grades,
        },
    )


def clusterfb(seed, quick):
    X, y, segments = make_wtal_videos(n_videos=40 if quick else 80, random_state=seed)
    n_train = len(X) * 3 // 4
    settings = params(seed, quick, quick_epochs=10)
    ours = ClusterFBSeparator(**settings)
    ablation = ClusterFBSeparator(lambda_cluster=0.0, lambda_cluster_cls=0.0, **settings)
    seconds = timed_fit(ours, X[:n_train], y[:n_train])
    ablation.fit(X[:n_train], y[:n_train])
    test, truth = X[n_train:], segments[n_train:]
    plain = pooled_snippet_proposals(X[:n_train], y[:n_train], test)
    return Draw(
        scores={
            "ours": ours.score(test, y[n_train:], segments=truth),
            "plain": float(localization_map(segments_to_frame(truth), plain)["mean"]),
            "ablation": ablation.score(test, y[n_train:], segments=truth),
        },
        fit_seconds=seconds,
        plot={
            "foreground": ours.foreground_proba(test[:3]),
            "segments": truth[:3],
        },
    )


def pooled_snippet_proposals(X_train, y_train, X_test):
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


def ceco(seed, quick):
    n_train, n_test = (20, 10) if quick else (30, 40)
    X, y = make_dense_segmentation(n_images=n_train + n_test, imbalance=200, random_state=seed)
    settings = params(seed, quick, quick_epochs=15)
    ours = CeCoSegmenter(**settings)
    ablation = CeCoSegmenter(lambda_center=0.0, **settings)
    seconds = timed_fit(ours, X[:n_train], y[:n_train])
    ablation.fit(X[:n_train], y[:n_train])
    pixels, labels = X.reshape(-1, X.shape[-1]), y.reshape(-1)
    n_train_pixels = n_train * X.shape[1] * X.shape[2]
    plain = LogisticRegression(max_iter=500).fit(pixels[:n_train_pixels], labels[:n_train_pixels])
    reports = {
        "CE + CeCo": ours.iou_report(X[n_train:], y[n_train:]),
        "CE alone": ablation.iou_report(X[n_train:], y[n_train:]),
    }
    plain_iou = iou_per_class(
        np.searchsorted(ours.classes_, labels[n_train_pixels:]),
        np.searchsorted(ours.classes_, plain.predict(pixels[n_train_pixels:])),
        len(ours.classes_),
    )
    tail = (reports["CE + CeCo"]["group"] == "tail").to_numpy()
    return Draw(
        scores={
            "ours": float(np.nanmean(reports["CE + CeCo"]["iou"][tail])),
            "plain": float(np.nanmean(plain_iou[tail])),
            "ablation": float(np.nanmean(reports["CE alone"]["iou"][tail])),
        },
        fit_seconds=seconds,
        plot={"reports": reports},
    )


def fine_tune(seed, quick):
    import torch
    from torch import nn

    from ..adapters import BackboneFeatures, FineTune

    data = load_digits_lt(imbalance_ratio=10, random_state=seed)
    train, test = (digit_images(X, scale=2) for X in (data.X_train, data.X_test))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
    # Few images make few updates an epoch at the default batch of 128: a CNN from scratch
    # needs smaller batches (examples/benchmarks/results_adapters.md).
    head = AllNCClassifier(batch_size=32, **params(seed, quick, quick_epochs=10))
    ours = FineTune(head, backbone=backbone, augment="shift")
    plain = make_pipeline(BackboneFeatures(backbone), StandardScaler(), clone(head))
    reference = LogisticRegression(max_iter=2000, class_weight="balanced")
    seconds = timed_fit(ours, train, data.y_train)
    plain.fit(train, data.y_train)
    reference.fit(data.X_train, data.y_train)
    return Draw(
        scores={
            "ours": balanced_accuracy(ours, test, data.y_test),
            "plain": balanced_accuracy(plain, test, data.y_test),
            "reference": balanced_accuracy(reference, data.X_test, data.y_test),
        },
        fit_seconds=seconds,
    )


def digit_images(X, scale):
    """The 8 x 8 digits as grey images in [0, 1], each pixel repeated ``scale`` times a side."""
    images = np.asarray(X, dtype=np.float32).reshape(-1, 8, 8) / 16
    return np.kron(images, np.ones((scale, scale), dtype=np.float32))


EXPERIMENTS = (
    Experiment(
        key="fine_tune",
        track="embedded",
        estimator="FineTune(AllNCClassifier)",
        data="digit images 16 x 16, long-tailed 10:1 (real); a small CNN from scratch",
        metric="balanced accuracy",
        names={
            "ours": "FineTune(AllNCClassifier)",
            "plain": "the same CNN frozen at its random initialisation + the same head",
            "reference": "LogisticRegression(class_weight='balanced') on the 64 pixels",
        },
        draw=fine_tune,
        guide="adapters.html",
    ),
    Experiment(
        key="clusterfb",
        track="embedded",
        estimator="ClusterFBSeparator",
        data="make_wtal_videos, 60 training videos (video labels only)",
        metric="mAP@tIoU 0.1:0.7",
        names={
            "ours": "ClusterFBSeparator",
            "plain": "LogisticRegression on pooled videos, per snippet",
            "ablation": "clustering off (CASE's baseline)",
        },
        draw=clusterfb,
        guide="user_guide/clusterfb.html",
        figure=_plots.foreground_curves,
        caption=(
            "Trained only on which actions occur in each video, the model finds where they "
            "are: the curve should rise over the orange segments."
        ),
    ),
    Experiment(
        key="ceco",
        track="embedded",
        estimator="CeCoSegmenter",
        data="make_dense_segmentation, 200:1, 30 training images",
        metric="tail-class IoU",
        names={
            "ours": "CeCoSegmenter",
            "plain": "LogisticRegression per pixel",
            "ablation": "λ = 0 (cross-entropy alone)",
        },
        draw=ceco,
        guide="user_guide/ceco.html",
        figure=_plots.iou_bars,
        caption=(
            "Colours group the classes by training frequency; the tail classes are where the "
            "center-collapse regulariser should help (few labelled pixels, high imbalance)."
        ),
    ),
    Experiment(
        key="cofinai",
        track="embedded",
        estimator="CoFInAIRegressor",
        data="make_aqa_sequences, 200 training videos",
        metric="Spearman SRCC",
        names={
            "ours": "CoFInAIRegressor",
            "plain": "RidgeCV on mean-pooled clips",
            "ablation": "w/o temporal fusion (TFM)",
        },
        draw=cofinai,
        guide="user_guide/cofinai.html",
        figure=_plots.scores_and_grades,
        caption=(
            "Each dot is a test video. The grades split the score range; predictions near the "
            "dashed diagonal are right."
        ),
    ),
    Experiment(
        key="allnc",
        track="embedded",
        estimator="AllNCClassifier",
        data="digits, long-tailed 50:1 (real)",
        metric="balanced accuracy",
        names={
            "ours": "AllNCClassifier",
            "plain": "LogisticRegression(class_weight='balanced')",
            "ablation": "plain cross-entropy (the same network)",
        },
        draw=allnc,
        guide="user_guide/allnc.html",
        figure=_plots.collapse_heatmaps,
        caption=(
            "Cosines between the centred class means of the learned features. Neural collapse "
            "puts every pair at the same angle: the more even the off-diagonal colour, the "
            "more collapsed."
        ),
    ),
    Experiment(
        key="dynamic_prototype",
        track="embedded",
        estimator="DynamicPrototypeClassifier",
        data=(
            f"make_superclass_features: {N_CLASSES} classes in {N_SUPERCLASSES} super-classes "
            f"on a sphere of d = {PROTOTYPE_DIM}"
        ),
        metric="balanced accuracy",
        names={
            "ours": f"DynamicPrototypeClassifier(prototype_dim={PROTOTYPE_DIM})",
            "plain": f"LDA to {PROTOTYPE_DIM} dimensions + LogisticRegression",
            "ablation": "static assignment",
            "reference": "LogisticRegression on all 32 features",
        },
        draw=dynamic_prototype,
        guide="user_guide/dynamic_prototype.html",
        figure=_plots.prototype_cosines,
        caption=(
            f"{N_CLASSES} fixed prototypes in {PROTOTYPE_DIM} dimensions cannot all be far "
            "apart. The learned assignment puts the classes of one super-class on "
            "neighbouring prototypes (red blocks on the diagonal); a static assignment "
            "scatters them. The same-dimension linear model (LDA) and the full-dimensional "
            "logistic regression show what the 3-dimensional output costs."
        ),
    ),
)
"""The embedded track, slowest first so that parallel workers finish together."""
