"""Long-tailed classification metrics: accuracy on many-, medium- and few-shot classes."""

# SPDX-License-Identifier: BSD-3-Clause

import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._validation import _check_same_length, _preview

__all__ = ["shot_accuracy"]


def shot_accuracy(y_true, y_pred, train_counts, many=100, few=20):
    """Per-class accuracy averaged over many-, medium- and few-shot classes.

    The long-tailed recognition protocol: a test class is *many-shot* if it had more than
    ``many`` training samples, *few-shot* if it had fewer than ``few``, and *medium-shot*
    otherwise (the usual >100 / 20-100 / <20 split of ImageNet-LT and iNaturalist).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True test labels.

    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    train_counts : mapping or pandas.Series
        Number of training samples of every label, e.g. a dict ``{label: count}`` or
        ``pandas.Series(y_train).value_counts()``. It must cover every label of ``y_true``;
        extra labels are ignored.

    many : float, default=100
        Classes with more than ``many`` training samples are many-shot.

    few : float, default=20
        Classes with fewer than ``few`` training samples are few-shot. At most ``many``.

    Returns
    -------
    accuracy : pandas.Series
        Entries ``many``, ``medium``, ``few`` and ``overall``: the mean per-class accuracy over
        the test classes of each group, and over all test classes. A group without test
        classes is NaN. On a class-balanced test set ``overall`` is the plain accuracy.

    Raises
    ------
    ValueError
        If the inputs differ in length, are empty or contain missing labels, if a label of
        ``y_true`` has no training count, if a count is negative or missing, or if
        ``few > many``.

    Examples
    --------
    >>> from ncestimators.metrics import shot_accuracy
    >>> y_true = ["cat", "cat", "dog", "dog", "emu", "emu"]
    >>> y_pred = ["cat", "cat", "dog", "cat", "cat", "cat"]
    >>> shot_accuracy(y_true, y_pred, {"cat": 500, "dog": 50, "emu": 5})
    many       1.0
    medium     0.5
    few        0.0
    overall    0.5
    Name: accuracy, dtype: float64
    """
    y_true = _check_1d_labels(y_true, "y_true")
    y_pred = _check_1d_labels(y_pred, "y_pred")
    _check_same_length(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("shot_accuracy got empty inputs; pass at least one test sample.")
    many, few = _check_shot_thresholds(many, few)
    counts = _check_train_counts(train_counts)
    per_class = pd.Series(y_true == y_pred).groupby(y_true).mean()
    missing = per_class.index.difference(counts.index)
    if len(missing):
        raise ValueError(
            f"train_counts has no count for the test labels {_preview(missing)}; give the "
            "number of training samples of every test label (0 for labels never seen)."
        )
    class_counts = counts.reindex(per_class.index).to_numpy()
    is_many, is_few = class_counts > many, class_counts < few
    groups = {
        "many": is_many,
        "medium": ~is_many & ~is_few,
        "few": is_few,
        "overall": np.ones(len(per_class), dtype=bool),
    }
    accuracy = {name: per_class[mask].mean() for name, mask in groups.items()}
    return pd.Series(accuracy, dtype=np.float64, name="accuracy")


def _check_1d_labels(values, name):
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}.")
    if pd.isna(array).any():
        raise ValueError(f"{name} contains missing labels (NaN or None); drop those samples.")
    return array


def _check_shot_thresholds(many, few):
    for name, value in (("many", many), ("few", few)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or np.isnan(value):
            raise ValueError(f"{name} must be a number of training samples, got {value!r}.")
    if few > many:
        raise ValueError(
            f"few={few} exceeds many={many}; few-shot classes have fewer than few and many-shot "
            "classes more than many training samples, so few must not exceed many."
        )
    return many, few


def _check_train_counts(train_counts):
    if isinstance(train_counts, pd.Series):
        counts = train_counts
    elif isinstance(train_counts, Mapping):
        counts = pd.Series(dict(train_counts), dtype=object)
    else:
        raise ValueError(
            "train_counts must map each label to its number of training samples (a dict or a "
            "pandas.Series such as pandas.Series(y_train).value_counts()), got "
            f"{type(train_counts).__name__}."
        )
    try:
        values = counts.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("train_counts must hold numbers of training samples.") from None
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError("train_counts must hold non-negative counts, without NaN.")
    return pd.Series(values, index=counts.index)
