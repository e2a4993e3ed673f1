"""Video-level targets of ClusterFBSeparator: multi-hot, label collections or single labels."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from scipy.sparse import issparse
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import type_of_target

from .._inputs import encode_classes

__all__ = []


def encode_targets(estimator, y):
    """Set ``classes_`` and ``_multilabel`` from y; return y as a float32 multi-hot matrix."""
    kind = target_kind(y)
    estimator._multilabel = kind != "labels"
    if kind == "indicator":
        estimator.classes_ = np.arange(_dense(y).shape[1])
    elif kind == "label_lists":
        estimator.classes_ = MultiLabelBinarizer().fit(y).classes_
    else:
        encode_classes(estimator, column_or_1d(y, warn=True))
    if len(estimator.classes_) < 2:
        raise ValueError(
            f"ClusterFBSeparator needs at least 2 classes; y has {len(estimator.classes_)}."
        )
    return as_indicator(y, estimator.classes_).astype(np.float32)


def as_indicator(y, classes):
    """y as a multi-hot matrix over ``classes``; ValueError for labels outside them."""
    kind = target_kind(y)
    if kind == "indicator":
        matrix = _dense(y)
        if matrix.shape[1] != len(classes):
            raise ValueError(
                f"y has {matrix.shape[1]} columns, but the estimator was fitted on "
                f"{len(classes)} classes; pass one column per class of classes_."
            )
        if not np.isin(matrix, (0, 1)).all():
            raise ValueError("A multi-hot y must contain only 0 and 1.")
        return matrix.astype(np.int64)
    collections = [list(labels) for labels in y] if kind == "label_lists" else None
    labels = (
        np.concatenate([np.asarray(c, dtype=object) for c in collections] or [[]])
        if collections is not None
        else column_or_1d(y, warn=True)
    )
    unknown = set(labels.tolist()) - set(classes.tolist())
    if unknown:
        raise ValueError(
            f"y contains labels {sorted(unknown, key=str)} that are not among the fitted "
            f"classes {classes.tolist()}."
        )
    if collections is not None:
        return MultiLabelBinarizer(classes=classes).fit_transform(collections)
    return (labels[:, None] == classes).astype(np.int64)


def target_kind(y):
    """Return "indicator" (multi-hot), "label_lists" (label collections) or "labels" (1-D)."""
    if issparse(y):
        return "indicator"
    try:
        target_type = type_of_target(y, input_name="y")
    except ValueError:
        target_type = None  # ragged label collections
    if target_type == "multilabel-indicator":
        return "indicator"
    if is_label_collections(y):
        return "label_lists"
    shape = np.asarray(y).shape  # not np.shape: some array-likes only offer __array__
    if len(shape) == 2 and shape[1] > 1:
        raise ValueError(
            "A 2-D y must be a multi-hot indicator and contain only 0 and 1; pass the labels "
            "of each video as a list of lists to use other labels."
        )
    return "labels"


def is_label_collections(y):
    if isinstance(y, np.ndarray) and y.dtype != object:
        return False
    if isinstance(y, str) or not hasattr(y, "__iter__"):
        return False
    items = list(y)
    return bool(items) and all(
        isinstance(item, list | tuple | set | frozenset | np.ndarray) for item in items
    )


def _dense(y):
    return y.toarray() if issparse(y) else np.asarray(y)
