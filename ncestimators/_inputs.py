"""The input layer: validation of features, sequences and per-position inputs, and of targets.

Every estimator reads its ``X`` through one of three validators, chosen by its input kind:

* :func:`check_features`: ``(n, D)`` feature vectors;
* :func:`check_sequences`: ``n`` sequences of ``D``-dimensional steps (clips, snippets), as a
  list, tuple, 1-D object array or ``pandas.Series`` of ``(T_i, D)`` arrays or tensors, an
  ``(n, T, D)`` array with trailing all-NaN rows as padding, or ``(n, D)`` (length 1);
* :func:`check_positions`: per-position features of images or point clouds, as
  ``(n, *spatial, D)`` arrays, collections of ``(P_i, D)`` point clouds, or ``(n, D)``.

All three set ``n_features_in_`` (and ``feature_names_in_`` for DataFrames) when ``reset`` is
true and check it otherwise, with scikit-learn's messages. Every refusal is a ValueError that
says what to fix.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_consistent_length
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, check_array, column_or_1d, validate_data

from ._data import IGNORED, BatchBuffer

__all__ = []

# Validation reads large inputs this many values at a time: 16 MiB of float32.
_CHUNK_VALUES = 2**22


def check_features(estimator, X, *, reset):
    """Validate 2-D feature input and return it as float32 (no copy for float32 input)."""
    X = validate_data(estimator, X, reset=reset, dtype=[np.float32, np.float64])
    return as_float32(X)


def as_float32(X):
    """X as float32, the precision the networks compute in; no copy for float32 input.

    A value beyond float32's range would silently become infinite, so it raises a ValueError.
    """
    with np.errstate(over="raise"):
        try:
            return X.astype(np.float32, copy=False)
        except FloatingPointError:
            raise ValueError(
                f"X has values of magnitude up to {np.nanmax(np.abs(X)):.3g}, beyond the float32 "
                f"range (up to {np.finfo(np.float32).max:.3g}) the networks compute in; rescale "
                "the features, e.g. with StandardScaler."
            ) from None


def check_sequences(estimator, X, *, reset):
    """Validate sequence input and return it as a float32 ``(n, T_max, D)`` NaN-padded array.

    Missing values inside a sequence, sequences without steps, mixed ``D`` and a ``D`` other
    than the fitted one raise ValueError.
    """
    sequences = _as_array_list(X)
    if sequences is not None:
        X = _pad_sequences(sequences)
    elif _ndim(X) != 3:
        return check_features(estimator, X, reset=reset)[:, None, :]
    # _check_padding checks for NaN and inf a few sequences at a time; scikit-learn's check
    # would allocate a mask of X's size.
    X = check_array(
        X, dtype=[np.float32, np.float64], allow_nd=True, ensure_all_finite=False, input_name="X"
    )
    X = as_float32(X)
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"X of shape {X.shape} has no time steps or no features.")
    _check_padding(X)
    _check_n_features(estimator, X.shape[2], reset=reset)
    return X


def check_positions(estimator, X, *, reset):
    """Validate per-position input in any accepted layout and return it as :class:`Positions`."""
    clouds = _as_array_list(X)
    if clouds is not None:
        positions = _check_point_clouds(clouds)
    elif _ndim(X) >= 3:
        positions = _check_grid(X)
    else:
        rows = check_features(estimator, X, reset=reset)
        return Positions(rows, "rows", (), np.ones(len(rows), dtype=np.intp))
    _check_n_features(estimator, positions.data[0].shape[-1], reset=reset)
    return positions


def encode_classes(estimator, y, *, reset=True):
    """Fit ``classes_`` on classification targets; return ``y`` as int64 codes.

    Raises a ValueError naming the class when ``y`` has a single class: there is nothing to learn.
    Without ``reset`` (validation targets), ``y`` is coded with the fitted ``classes_`` and a
    label outside them is a ValueError.
    """
    if _num_samples(y) == 0:
        raise ValueError("y is empty; pass one label per sample.")
    check_classification_targets(y)
    if not reset:
        y = np.asarray(y)
        unknown = np.setdiff1d(y, estimator.classes_)
        if len(unknown):
            raise ValueError(
                f"The validation labels y_val contain {len(unknown)} classes that y does not "
                f"have, e.g. {unknown[:5].tolist()}; validate on the training classes only."
            )
        return np.searchsorted(estimator.classes_, y).astype(np.int64, copy=False)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; y has only one "
            f"class: {encoder.classes_.tolist()[0]!r}."
        )
    estimator.classes_ = encoder.classes_
    return encoder.transform(y).astype(np.int64, copy=False)


def _check_n_features(estimator, n_features, *, reset):
    """Set (reset) or check ``n_features_in_`` for input that ``validate_data`` cannot read."""
    if reset:
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )


def _ndim(X):
    """Number of axes of arrays and nested lists; 2 for other inputs, which validate_data reads."""
    if hasattr(X, "ndim"):
        return X.ndim
    return np.ndim(X) if isinstance(X, list | tuple) else 2


def _as_array_list(X):
    """The items of a collection of 2-D arrays as NumPy arrays; None if X is not one.

    Collections are lists, tuples, 1-D object arrays and ``pandas.Series`` (what a DataFrame
    column of clips is, and what ``GridSearchCV`` hands over after indexing); items may be
    arrays, nested lists or tensors.
    """
    if isinstance(X, pd.Series) or (isinstance(X, np.ndarray) and X.dtype == object):
        if X.ndim != 1:
            return None
        items = list(X)
    elif isinstance(X, list | tuple):
        items = X
    else:
        return None
    arrays = [_as_array(item) for item in items]
    if not arrays or any(array.ndim != 2 for array in arrays):
        return None
    return arrays


def _as_array(item):
    if isinstance(item, torch.Tensor):
        return item.detach().cpu().numpy()
    return np.asarray(item)


def _feature_count(arrays, kind):
    """The common number of features (columns) of 2-D arrays; ValueError if they differ."""
    widths = {array.shape[1] for array in arrays}
    if len(widths) > 1:
        raise ValueError(
            f"All {kind} must have the same number of features; got {sorted(widths)}. Extract "
            "them with the same backbone, or pad/crop the feature axis."
        )
    return widths.pop()


def _pad_sequences(arrays):
    n_features = _feature_count(arrays, "sequences")
    for index, array in enumerate(arrays):
        if len(array) == 0:
            raise ValueError(
                f"Sequence {index} has no time steps; drop it or give it at least one step."
            )
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"Sequence {index} has non-numeric dtype {array.dtype}.")
        if np.isnan(array).all(axis=1).any():
            raise ValueError(
                f"Sequence {index} contains NaN; missing steps are only allowed as trailing "
                "padding of an (n, T, D) array."
            )
    # In the input's precision: the cast to float32 comes after validation, which checks it.
    dtype = np.result_type(np.float32, *(array.dtype for array in arrays))
    padded = np.full((len(arrays), max(map(len, arrays)), n_features), np.nan, dtype)
    for index, array in enumerate(arrays):
        padded[index, : len(array)] = array
    return padded


def _check_padding(X):
    """Raise for NaN or inf in ``(n, T, D)`` sequences that is not whole trailing padding rows.

    Sequences are checked a few at a time, so that a memory-mapped X is never copied whole.
    """
    chunk = max(1, _CHUNK_VALUES // (X.shape[1] * X.shape[2]))
    for start in range(0, len(X), chunk):
        _check_padding_of(X[start : start + chunk], first=start)


def _check_padding_of(X, *, first):
    """:func:`_check_padding` for the sequences ``first, first + 1, ...`` of X."""
    missing = np.isnan(X)
    padding = missing.all(axis=2)
    lengths = X.shape[1] - np.cumprod(padding[:, ::-1], axis=1).sum(axis=1)
    real = np.arange(X.shape[1]) < lengths[:, None]
    if (missing.any(axis=2) & real).any():
        video = first + int(np.nonzero((missing.any(axis=2) & real).any(axis=1))[0][0])
        raise ValueError(
            f"X contains NaN inside sequence {video}. NaN is only allowed as whole trailing rows "
            "(padding); impute or drop the missing values."
        )
    if (lengths == 0).any():
        video = first + int(np.nonzero(lengths == 0)[0][0])
        raise ValueError(f"Sequence {video} is all padding (no time steps); drop it from X.")
    if np.isinf(X[real]).any():
        raise ValueError("X contains infinity; replace or drop those values.")


class Positions:
    """Validated per-position features: n images (or clouds) of positions with D features each.

    ``layout`` is "rows" for ``(n, D)`` input (one position per image), "grid" for
    ``(n, *spatial, D)`` arrays and "ragged" for collections of ``(P_i, D)`` point clouds, which
    are zero-padded batch by batch to the largest cloud (padding targets are ``IGNORED``).
    """

    def __init__(self, data, layout, spatial_shape, lengths):
        self.data = data
        self.layout = layout
        self.spatial_shape = spatial_shape
        self.lengths = lengths
        self.n_positions = int(lengths.max())
        self._batches = BatchBuffer()

    def __len__(self):
        return len(self.lengths)

    def batch(self, indices):
        """Float32 (len(indices), n_positions, D) features of the given images, zero-padded."""
        if self.layout == "ragged":
            clouds = [self.data[index] for index in indices]
            padded = np.zeros((len(clouds), self.n_positions, clouds[0].shape[1]), np.float32)
            for row, cloud in zip(padded, clouds, strict=True):
                row[: len(cloud)] = as_float32(cloud)
            return padded
        # Just these images, also out of a memory map, into the buffer the batches reuse.
        images = as_float32(self._batches.gather(self.data, np.asarray(indices)))
        return images.reshape(len(indices), self.n_positions, images.shape[-1])

    def flatten_labels(self, y):
        """Labels of all real positions, image by image, as one 1-D array."""
        if self.layout == "rows":
            y = column_or_1d(y, warn=True)
            check_consistent_length(self.lengths, y)
            return y
        if self.layout == "ragged":
            return self._flatten_ragged_labels(y)
        y = np.asarray(y)
        expected = (len(self), *self.spatial_shape)
        if y.shape != expected:
            raise ValueError(
                f"y has shape {y.shape}, but X has {len(self)} images of shape "
                f"{self.spatial_shape}: y must have the shape of X without its feature axis, "
                f"{expected}."
            )
        return y.reshape(-1)

    def _flatten_ragged_labels(self, y):
        labels = _as_label_list(y)
        if labels is None or len(labels) != len(self):
            raise ValueError(
                f"X is a collection of {len(self)} point clouds, so y must be a list of "
                f"{len(self)} label arrays, one per cloud; got {type(y).__name__}"
                + (f" of length {len(y)}." if hasattr(y, "__len__") else ".")
            )
        for index, (cloud_labels, length) in enumerate(zip(labels, self.lengths, strict=True)):
            if cloud_labels.shape != (length,):
                raise ValueError(
                    f"Labels of point cloud {index} have shape {cloud_labels.shape}, but the "
                    f"cloud has {length} points: pass one label per point, shape ({length},)."
                )
        return np.concatenate(labels)

    def pad(self, flat):
        """(n, n_positions) array of the per-position values ``flat``, padding ``IGNORED``."""
        if self.layout != "ragged":
            return flat.reshape(len(self), self.n_positions)
        padded = np.full((len(self), self.n_positions), IGNORED, dtype=flat.dtype)
        padded[self._real_mask()] = flat
        return padded

    def real_positions(self, values):
        """The entries of (n, n_positions, ...) ``values`` at real positions, flattened."""
        if self.layout != "ragged":
            return values.reshape(-1, *values.shape[2:])
        return values[self._real_mask()]

    def unflatten(self, values):
        """(n, n_positions, ...) values in the layout of the input X, without its feature axis."""
        if self.layout == "rows":
            return values[:, 0]
        if self.layout == "ragged":
            return [cloud[:length] for cloud, length in zip(values, self.lengths, strict=True)]
        return values.reshape(len(self), *self.spatial_shape, *values.shape[2:])

    def _real_mask(self):
        return np.arange(self.n_positions) < self.lengths[:, None]


def _as_label_list(y):
    """Per-cloud label arrays of a list, tuple, object array or Series; None for other y."""
    if isinstance(y, pd.Series | list | tuple) or (isinstance(y, np.ndarray) and y.dtype == object):
        return [np.asarray(labels) for labels in y]
    return None


def _check_point_clouds(clouds):
    clouds = [_as_float_array(cloud, f"Point cloud {index}") for index, cloud in enumerate(clouds)]
    _feature_count(clouds, "point clouds")
    for index, cloud in enumerate(clouds):
        if cloud.size == 0:
            raise ValueError(
                f"Point cloud {index} has shape {cloud.shape}; every cloud needs at least one "
                "point and one feature."
            )
        _check_finite(cloud, f"Point cloud {index}")
    lengths = np.array([len(cloud) for cloud in clouds], dtype=np.intp)
    return Positions(clouds, "ragged", None, lengths)


def _check_grid(X):
    X = _as_float_array(X, "X")
    if 0 in X.shape:
        raise ValueError(
            f"X of shape {X.shape} is empty; it needs at least one image, one position and one "
            "feature."
        )
    _check_finite(X, "X")
    spatial_shape = X.shape[1:-1]
    lengths = np.full(len(X), np.prod(spatial_shape), dtype=np.intp)
    return Positions(X, "grid", spatial_shape, lengths)


def _as_float_array(X, name):
    """X as a numeric array: floating input (np.memmap included) as is, other numbers as float32."""
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.dtype.kind == "f":
        return X
    if X.dtype.kind in "iub":
        return X.astype(np.float32)
    raise ValueError(
        f"{name} has dtype {X.dtype}; features must be real numbers (float or int). Complex, "
        "string and object data are not supported."
    )


def _check_finite(X, name):
    """Raise if X has NaN or infinity, without allocating an array of X's size."""
    # min and max propagate NaN and expose infinities, reading X (a memmap, say) once each.
    if np.isfinite(X.min()) and np.isfinite(X.max()):
        return
    image = next(index for index, item in enumerate(X) if not np.isfinite(item).all())
    raise ValueError(
        f"{name} contains NaN or infinity (first at index {image} of its first axis); impute or "
        "drop those values."
    )
