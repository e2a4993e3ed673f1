"""Weighted losses: per-sample weights, class weights, and weighted class statistics."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch.nn import functional as F

__all__ = []


def weighted_mean(values, weights=None):
    """``values.mean()``, or ``sum(w * values) / sum(w)`` with ``weights`` broadcast to them.

    A batch whose weights are all 0 has mean 0 (and zero gradients): its samples do not count.
    """
    if weights is None:
        return values.mean()
    weights = torch.broadcast_to(weights, values.shape)
    return (weights * values).sum() / safe_denominator(weights.sum())


def weighted_cross_entropy(logits, target, weights=None):
    """``F.cross_entropy``'s mean over the rows, weighted by ``weights`` (one per row) if given."""
    if weights is None:
        return F.cross_entropy(logits, target)
    return weighted_mean(F.cross_entropy(logits, target, reduction="none"), weights)


def with_class_weight(weights, class_weight, target):
    """Weights of a cross-entropy's rows: ``weights`` times ``class_weight[target]``.

    Either may be None (all ones); None when both are.
    """
    if class_weight is None:
        return weights
    if weights is None:
        return class_weight[target]
    return weights * class_weight[target]


def safe_denominator(denominator):
    """``denominator`` with zeros raised to the smallest normal float, so that 0 / 0 is 0."""
    return denominator.clamp(min=torch.finfo(denominator.dtype).tiny)


def class_sums(features, target, n_classes, weights=None):
    """Per-class sums of ``features`` and per-class sample counts.

    With ``weights`` (one per sample), the weighted sums and the classes' total weights.
    """
    if weights is not None:
        features = features * weights.unsqueeze(1).to(features.dtype)
    sums = torch.zeros(n_classes, features.shape[1], dtype=features.dtype, device=features.device)
    counts = torch.bincount(target, weights=weights, minlength=n_classes)
    return sums.index_add(0, target, features), counts


def resolve_class_weight(class_weight, classes, codes, sample_weight=None):
    """``class_weight`` as one weight per class of ``classes``, as scikit-learn reads it.

    ``codes`` are the training samples' positions in ``classes``, ``sample_weight`` their
    weights. "balanced" weighs class c by ``n / (n_classes * n_c)``, with ``n_c`` its total
    sample weight (0 for a class whose samples all weigh 0); a dict must name classes of
    ``classes``, and the classes it leaves out weigh 1.
    """
    if class_weight is None:
        return np.ones(len(classes))
    if class_weight == "balanced":
        with np.errstate(divide="ignore"):
            weights = compute_class_weight(
                "balanced", classes=np.arange(len(classes)), y=codes, sample_weight=sample_weight
            )
        return np.where(np.isfinite(weights), weights, 0.0)
    known = set(classes.tolist())
    unknown = [key for key in class_weight if key not in known]
    if unknown:
        raise ValueError(
            f"class_weight has keys {unknown[:5]} that are not classes seen in fit; its keys "
            f"must be labels of classes_ (here {len(classes)} classes, e.g. "
            f"{classes[:5].tolist()})."
        )
    return np.array([class_weight.get(label, 1.0) for label in classes.tolist()], dtype=float)
