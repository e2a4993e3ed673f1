"""Semantic segmentation metrics: per-class and mean intersection over union."""

# SPDX-License-Identifier: BSD-3-Clause

import numbers

import numpy as np

from ._validation import _preview

__all__ = ["iou_per_class", "mean_iou", "frequency_groups"]

_GROUPS = ("head", "common", "tail")


def iou_per_class(y_true, y_pred, n_classes, ignore_index=-1):
    """Intersection over union of every class, from dataset-level counts.

    Intersections and unions are summed over all positions of the whole dataset before
    dividing (the mmsegmentation convention), not averaged per image.

    Parameters
    ----------
    y_true : array-like of int, any shape
        True class of every position (pixel, point or sample), in ``[0, n_classes)`` or
        ``ignore_index``.

    y_pred : array-like of int, same shape as ``y_true``
        Predicted class of every position, in ``[0, n_classes)`` wherever ``y_true`` is not
        ``ignore_index`` (it is not read elsewhere).

    n_classes : int
        Number of classes.

    ignore_index : int or None, default=-1
        Label of positions to leave out, such as unlabelled pixels (255 in many segmentation
        datasets). It must not be a class. None leaves out nothing.

    Returns
    -------
    iou : ndarray of shape (n_classes,)
        :math:`\\mathrm{IoU}_c = TP_c / (TP_c + FP_c + FN_c)`; NaN for a class that appears
        neither in ``y_true`` nor in ``y_pred`` (at kept positions).

    Raises
    ------
    ValueError
        If the shapes differ, a label is not an integer or lies outside ``[0, n_classes)``
        (other than ``ignore_index`` in ``y_true``), ``ignore_index`` is a class, or no
        position is left to evaluate.

    See Also
    --------
    mean_iou : The mean over the classes.

    Notes
    -----
    The counts are the diagonal (:math:`TP_c`), row sums and column sums of the dataset's
    confusion matrix, computed with :func:`numpy.bincount` in
    :math:`O(n_{\\mathrm{positions}} + n_{\\mathrm{classes}})` without forming the matrix.

    Examples
    --------
    >>> from ncestimators.metrics import iou_per_class
    >>> y_true = [[0, 0, 1], [1, 2, -1]]
    >>> y_pred = [[0, 1, 1], [1, 0, 2]]
    >>> iou_per_class(y_true, y_pred, n_classes=4)
    array([0.33333333, 0.66666667, 0.        ,        nan])
    """
    n_classes = _check_positive_int(n_classes, "n_classes")
    y_true = _check_label_array(y_true, "y_true")
    y_pred = _check_label_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}."
        )
    if ignore_index is not None:
        if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
            raise ValueError(f"ignore_index must be an int or None, got {ignore_index!r}.")
        if 0 <= ignore_index < n_classes:
            raise ValueError(
                f"ignore_index={ignore_index} is one of the classes [0, {n_classes}); use a "
                "label outside that range (e.g. -1 or 255) for positions to ignore."
            )
        keep = y_true != ignore_index
        y_true, y_pred = y_true[keep], y_pred[keep]
    else:
        y_true, y_pred = y_true.ravel(), y_pred.ravel()
    if y_true.size == 0:
        raise ValueError(
            "No position is left to evaluate: y_true is empty or holds only ignore_index="
            f"{ignore_index}."
        )
    allowed = f"[0, {n_classes})" + ("" if ignore_index is None else f" or {ignore_index}")
    _check_label_range(y_true, n_classes, "y_true", allowed)
    _check_label_range(y_pred, n_classes, "y_pred", f"[0, {n_classes})")
    intersection = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    union = (
        np.bincount(y_true, minlength=n_classes)
        + np.bincount(y_pred, minlength=n_classes)
        - intersection
    )
    iou = np.full(n_classes, np.nan)
    present = union > 0
    iou[present] = intersection[present] / union[present]
    return iou


def mean_iou(y_true, y_pred, n_classes, ignore_index=-1):
    """Mean intersection over union (mIoU) over the classes that occur.

    The mean of :func:`iou_per_class` over the classes present in ``y_true`` or ``y_pred``;
    classes absent from both are skipped, as in mmsegmentation.

    Parameters
    ----------
    y_true : array-like of int, any shape
        True class of every position, in ``[0, n_classes)`` or ``ignore_index``.

    y_pred : array-like of int, same shape as ``y_true``
        Predicted class of every position.

    n_classes : int
        Number of classes.

    ignore_index : int or None, default=-1
        Label of positions to leave out; see :func:`iou_per_class`.

    Returns
    -------
    miou : float
        The mean IoU, in [0, 1].

    Raises
    ------
    ValueError
        In the cases listed in :func:`iou_per_class`.

    Examples
    --------
    >>> from ncestimators.metrics import mean_iou
    >>> round(mean_iou([[0, 0, 1], [1, 2, -1]], [[0, 1, 1], [1, 0, 2]], n_classes=4), 4)
    0.3333
    """
    return float(np.nanmean(iou_per_class(y_true, y_pred, n_classes, ignore_index)))


def _check_positive_int(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def _check_label_array(labels, name):
    array = np.asarray(labels)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or np.any(array != np.round(array)):
            raise ValueError(f"{name} must hold integer class labels, got non-integral values.")
        return array.astype(np.int64)
    if array.dtype.kind == "b" or array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class labels, got dtype {array.dtype}.")
    return array.astype(np.int64, copy=False)


def _check_label_range(labels, n_classes, name, allowed):
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise ValueError(
            f"{name} has labels outside {allowed}: {_preview(np.unique(labels[bad]))}; "
            "check n_classes and ignore_index."
        )


def frequency_groups(frequency, thresholds=None):
    """Split classes into head, common and tail groups by their training frequency.

    Parameters
    ----------
    frequency : array-like of shape (n_classes,)
        Training frequency of each class (its fraction of the labelled training positions, or
        any non-negative count: only the order matters when ``thresholds`` is None).

    thresholds : tuple of two floats (low, high), default=None
        Frequencies that split the classes: tail below ``low``, head from ``high`` on, common
        in between. None ranks the classes by frequency and splits them into thirds (head,
        common, tail; the larger groups first when the count does not divide by three), the
        protocol of ScanNet200 and ADE20K long-tail evaluations; ties keep the class order.

    Returns
    -------
    groups : ndarray of shape (n_classes,), dtype=object
        ``"head"``, ``"common"`` or ``"tail"`` for each class.

    See Also
    --------
    ncestimators.CeCoSegmenter.class_report : IoU per class with its group.
    ncestimators.plotting.IoUDisplay : IoU bars coloured by group.

    Examples
    --------
    >>> from ncestimators.metrics import frequency_groups
    >>> frequency_groups([0.5, 0.3, 0.15, 0.04, 0.01]).tolist()
    ['head', 'head', 'common', 'common', 'tail']
    >>> frequency_groups([0.5, 0.3, 0.15, 0.04, 0.01], thresholds=(0.05, 0.2)).tolist()
    ['head', 'head', 'common', 'tail', 'tail']
    """
    frequency = np.asarray(frequency, dtype=np.float64)
    if frequency.ndim != 1 or not np.all(frequency >= 0):
        raise ValueError(
            f"frequency must be one non-negative value per class, got {_preview(frequency)}."
        )
    groups = np.empty(len(frequency), dtype=object)
    if thresholds is None:
        order = np.argsort(-frequency, kind="stable")
        for name, members in zip(_GROUPS, np.array_split(order, 3), strict=True):
            groups[members] = name
        return groups
    low, high = _check_thresholds(thresholds)
    groups[:] = "common"
    groups[frequency >= high] = "head"
    groups[frequency < low] = "tail"
    return groups


def _check_thresholds(thresholds):
    try:
        low, high = (float(value) for value in thresholds)
    except (TypeError, ValueError):
        low = high = np.nan
    if not 0 <= low <= high <= 1:
        raise ValueError(
            f"thresholds must be two training frequencies (low, high) with 0 <= low <= high <= "
            f"1, got {thresholds!r}; e.g. (0.01, 0.1) for tail below 1% and head from 10%."
        )
    return low, high
