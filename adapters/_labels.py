"""Labels between the image grid and a feature grid: majority vote down, nearest neighbour up."""

# SPDX-License-Identifier: BSD-3-Clause

import operator

import numpy as np

__all__ = ["downsample_labels", "upsample_labels"]


def downsample_labels(y, size, ignore_index=-1):
    """Put per-pixel labels on a coarser feature grid by majority vote.

    Each cell of the ``size`` grid takes the most frequent label among the pixels it covers,
    not counting ``ignore_index``; a cell that covers only ignored pixels is ``ignore_index``.
    Ties go to the smallest label.

    Parameters
    ----------
    y : array-like of shape (n_images, H, W)
        Labels of every pixel.

    size : tuple of int (h, w)
        The feature grid, e.g. ``maps.shape[1:3]`` of :class:`DenseFeatures` output.

    ignore_index : int or None, default=-1
        Label of unlabelled pixels; None counts every label.

    Returns
    -------
    labels : ndarray of shape (n_images, h, w)
        Labels on the feature grid, of y's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.adapters import downsample_labels
    >>> y = np.array([[[1, 1, 2, 2], [1, 0, 2, -1], [3, 3, -1, -1], [3, 0, -1, -1]]])
    >>> downsample_labels(y, (2, 2))
    array([[[ 1,  2],
            [ 3, -1]]])
    """
    y = np.asarray(y)
    if y.ndim != 3:
        raise ValueError(f"y must be (n_images, H, W) labels, got shape {y.shape}.")
    height, width = _grid_size(size)
    if not (height <= y.shape[1] and width <= y.shape[2]):
        raise ValueError(
            f"size={(height, width)} must be a grid no larger than the images ({y.shape[1:]})."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            "y contains NaN; give unlabelled pixels the label ignore_index (-1 by default)."
        )
    if len(y) == 0:
        return np.empty((0, height, width), dtype=y.dtype)
    try:
        labels, codes = np.unique(y, return_inverse=True)
    except TypeError as error:  # labels that do not compare, such as ints next to strings
        raise ValueError(
            f"The labels of y cannot be sorted ({error}); pass labels of one type."
        ) from error
    codes = codes.reshape(y.shape)
    rows = np.arange(y.shape[1]) * height // y.shape[1]
    cols = np.arange(y.shape[2]) * width // y.shape[2]
    counts = np.zeros((len(y), height, width, len(labels)), dtype=np.int64)
    images = np.arange(len(y))[:, None, None]
    np.add.at(counts, (images, rows[None, :, None], cols[None, None, :], codes), 1)
    ignored = labels == ignore_index if ignore_index is not None else np.zeros(len(labels), bool)
    counts[..., ignored] = 0
    votes = labels[counts.argmax(axis=-1)]
    if ignored.any():
        votes[counts.sum(axis=-1) == 0] = ignore_index
    return votes.astype(y.dtype, copy=False)


def upsample_labels(labels, size):
    """Put feature-grid predictions back on the image grid (nearest neighbour).

    Parameters
    ----------
    labels : array-like of shape (n_images, h, w, ...)
        Per-cell values: labels, or probabilities with a trailing class axis.

    size : tuple of int (H, W)
        The image grid.

    Returns
    -------
    upsampled : ndarray of shape (n_images, H, W, ...)
        Each pixel takes the value of the cell that covers it.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.adapters import upsample_labels
    >>> upsample_labels(np.array([[[0, 1], [2, 3]]]), (4, 4))[0]
    array([[0, 0, 1, 1],
           [0, 0, 1, 1],
           [2, 2, 3, 3],
           [2, 2, 3, 3]])
    """
    labels = np.asarray(labels)
    if labels.ndim < 3 or 0 in labels.shape[1:3]:
        raise ValueError(
            f"labels must be (n_images, h, w, ...) values on a grid of at least one cell, got "
            f"shape {labels.shape}."
        )
    height, width = _grid_size(size)
    rows = np.arange(height) * labels.shape[1] // height
    cols = np.arange(width) * labels.shape[2] // width
    return labels[:, rows[:, None], cols[None, :]]


def _grid_size(size):
    """``size`` as two positive integers (height, width)."""
    try:
        height, width = (operator.index(side) for side in size)
    except (TypeError, ValueError) as error:
        raise ValueError(f"size must be two integers (height, width), got {size!r}.") from error
    if height < 1 or width < 1:
        raise ValueError(f"size must be two positive integers (height, width), got {size!r}.")
    return height, width
