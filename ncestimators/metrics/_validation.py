"""Input checks and message helpers shared by the metric modules."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = []


def _check_1d_floats(values, name):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers: {error}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}.")
    return array


def _check_same_length(y_true, y_pred):
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}."
        )


def _check_tiou_thresholds(tiou_thresholds):
    thresholds = _check_1d_floats(np.atleast_1d(tiou_thresholds), "tiou_thresholds")
    if len(thresholds) == 0:
        raise ValueError("tiou_thresholds is empty; pass at least one threshold in (0, 1].")
    if not np.all((thresholds > 0) & (thresholds <= 1)):
        raise ValueError(f"tiou_thresholds must lie in (0, 1], got {thresholds.tolist()}.")
    rounded = np.round(thresholds, 10)
    if len(np.unique(rounded)) != len(rounded):
        raise ValueError(f"tiou_thresholds must be distinct, got {thresholds.tolist()}.")
    return thresholds


def _preview(values, limit=5):
    """The first ``limit`` values as a list, with an ellipsis if there are more."""
    values = list(values)
    shown = [value.item() if isinstance(value, np.generic) else value for value in values[:limit]]
    return f"{shown}" + (f" (and {len(values) - limit} more)" if len(values) > limit else "")
