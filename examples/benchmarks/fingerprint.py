"""Fingerprints of the five estimators at fixed seeds: what a refactor must leave bit-identical.

Fits each estimator (and ``FineTune`` on images and on videos) on small generated data with
``random_state=0`` on the CPU, and prints one JSON object: per model, a SHA-256 of every
public output (``predict``, probabilities or scores, embeddings where the estimator has them,
the training losses) and of the trained tensors. Tensors are hashed one by one and the hashes
sorted, so that renaming or reordering modules does not change the fingerprint, while any
change of a value does.

Run before and after a change and compare::

    python examples/benchmarks/fingerprint.py > before.json
    ...
    python examples/benchmarks/fingerprint.py > after.json && diff before.json after.json
"""

# SPDX-License-Identifier: BSD-3-Clause

import hashlib
import json

import numpy as np
import pandas as pd
import torch
from torch import nn

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators.datasets import (
    load_digits_lt,
    make_aqa_sequences,
    make_dense_segmentation,
    make_superclass_features,
    make_wtal_videos,
)

OUTPUTS = (
    "predict",
    "predict_proba",
    "decision_function",
    "embed",
    "predict_grades",
    "foreground_proba",
    "cluster_proba",
    "localize",
    "procedure_attention",
)


def digest(value):
    """SHA-256 of an output: arrays by their bytes, frames by their values, lists item by item."""
    hasher = hashlib.sha256()
    if isinstance(value, pd.DataFrame):
        value = value.to_numpy(dtype=object).astype(str)
    if isinstance(value, list):
        for item in value:
            hasher.update(digest(item).encode())
        return hasher.hexdigest()
    array = np.ascontiguousarray(np.asarray(value))
    hasher.update(str((array.shape, array.dtype)).encode())
    hasher.update(array.tobytes())
    return hasher.hexdigest()


def network_digest(module):
    """SHA-256 of the sorted hashes of every tensor of a module's state."""
    hashes = sorted(
        digest(tensor.detach().cpu().numpy()) for tensor in module.state_dict().values()
    )
    return hashlib.sha256("".join(hashes).encode()).hexdigest()


def fingerprint(model, X):
    net = model.estimator_.net_ if hasattr(model, "estimator_") else model.net_
    outputs = {"network": network_digest(net.module_)}
    outputs["train_loss"] = digest([row["train_loss"] for row in model_history(model)])
    for name in OUTPUTS:
        method = getattr(model, name, None)
        if method is not None:
            outputs[name] = digest(method(X))
    return outputs


def model_history(model):
    return (model.estimator_ if hasattr(model, "estimator_") else model).history_


def models():
    superclass = make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=200, n_features=6, random_state=0
    )
    digits = load_digits_lt(imbalance_ratio=10, random_state=0)
    wtal = make_wtal_videos(
        n_videos=16, n_classes=3, n_features=8, min_length=16, max_length=32, random_state=0
    )[:2]
    aqa = make_aqa_sequences(n_videos=30, n_features=6, random_state=0)
    maps = make_dense_segmentation(
        n_images=24, height=8, width=8, n_features=6, n_classes=4, imbalance=8, random_state=0
    )
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 16, 16, 3), dtype=np.uint8)
    videos = [rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8) for n in (4, 9, 12, 16)]
    yield "DynamicPrototypeClassifier", DynamicPrototypeClassifier(max_epochs=5), superclass
    yield "AllNCClassifier", AllNCClassifier(max_epochs=5), (digits.X_train / 16, digits.y_train)
    yield "ClusterFBSeparator", ClusterFBSeparator(max_epochs=5), wtal
    yield "CoFInAIRegressor", CoFInAIRegressor(max_epochs=5), aqa
    yield "CeCoSegmenter", CeCoSegmenter(max_epochs=5), maps
    from ncestimators.adapters import FineTune

    with torch.random.fork_rng():
        torch.manual_seed(0)
        image_net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3))
        clip_net = nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.ReLU())
    yield (
        "FineTune on images",
        FineTune(DynamicPrototypeClassifier(max_epochs=2), backbone=image_net),
        (images, np.arange(24) % 4),
    )
    yield (
        "FineTune on videos",
        FineTune(
            CoFInAIRegressor(d_procedure=8, d_score=4, max_epochs=2), backbone=clip_net, clip_len=4
        ),  # fmt: skip
        (videos, np.array([1.0, 4.0, 6.0, 9.0])),
    )


def main():
    results = {}
    for name, model, (X, y) in models():
        prefix = "estimator__" if hasattr(model, "estimator") else ""
        model.set_params(**{f"{prefix}random_state": 0, f"{prefix}device": "cpu"}).fit(X, y)
        results[name] = fingerprint(model, X)
    print(json.dumps(results, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
