"""Validation and batching of per-position input: grids, point-cloud lists and rows."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import column_or_1d
from torch.utils.data import Dataset

from .._base import as_float32, check_features

# Target code of positions that do not count: ignored labels and the padding of point clouds.
IGNORED = -1


class Images:
    """Validated per-position features: n images (or clouds) of positions with D features each.

    ``layout`` is "rows" for ``(n, D)`` input (one position per image), "grid" for
    ``(n, *spatial, D)`` arrays and "ragged" for lists of ``(P_i, D)`` point clouds, which are
    zero-padded batch by batch to the largest cloud (padding targets are ``IGNORED``).
    """

    def __init__(self, data, layout, spatial_shape, lengths):
        self.data = data
        self.layout = layout
        self.spatial_shape = spatial_shape
        self.lengths = lengths
        self.n_positions = int(lengths.max())

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
        # Fancy indexing copies just these images, also out of a memory map.
        images = as_float32(self.data[indices])
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
        if not isinstance(y, list | tuple) or len(y) != len(self):
            raise ValueError(
                f"X is a list of {len(self)} point clouds, so y must be a list of "
                f"{len(self)} label arrays, one per cloud; got {type(y).__name__}"
                + (f" of length {len(y)}." if hasattr(y, "__len__") else ".")
            )
        labels = [np.asarray(cloud_labels) for cloud_labels in y]
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


class PositionDataset(Dataset):
    """Batches of images as ``(features (B, P, D) float32, targets (B, P) int64)`` arrays.

    Indexed with an array of image indices per batch (the base's ``BatchLoader``), so that only
    the images of the current batch are read, also from a memory map, and converted to float32.
    Without targets (prediction), every target is ``IGNORED``.
    """

    def __init__(self, images, targets=None):
        self.images = images
        self.targets = targets

    def __len__(self):
        return len(self.images)

    def __getitem__(self, indices):
        features = self.images.batch(indices)
        if self.targets is None:
            return features, np.full(features.shape[:2], IGNORED, dtype=np.int64)
        return features, self.targets[indices]


def check_images(estimator, X, *, reset):
    """Validate X in any accepted layout; set (reset) or check ``n_features_in_``."""
    if _is_point_cloud_list(X):
        images = _check_point_clouds(X)
    elif _n_dims(X) >= 3:
        images = _check_grid(X)
    else:
        rows = check_features(estimator, X, reset=reset)
        return Images(rows, "rows", (), np.ones(len(rows), dtype=np.intp))
    n_features = images.data[0].shape[-1]
    if reset:
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return images


def _n_dims(X):
    """Number of axes of arrays and nested lists; 2 for other inputs (validate_data's case)."""
    if hasattr(X, "ndim"):
        return X.ndim
    if isinstance(X, list | tuple):
        return np.ndim(X)
    return 2


def _is_point_cloud_list(X):
    return isinstance(X, list | tuple) and len(X) > 0 and all(np.ndim(cloud) == 2 for cloud in X)


def _check_point_clouds(clouds):
    clouds = [_as_float_array(cloud, f"Point cloud {index}") for index, cloud in enumerate(clouds)]
    widths = {cloud.shape[1] for cloud in clouds}
    if len(widths) > 1:
        raise ValueError(
            f"All point clouds must have the same number of features; got {sorted(widths)}. "
            "Extract them with the same backbone."
        )
    for index, cloud in enumerate(clouds):
        if cloud.size == 0:
            raise ValueError(
                f"Point cloud {index} has shape {cloud.shape}; every cloud needs at least one "
                "point and one feature."
            )
        _check_finite(cloud, f"Point cloud {index}")
    lengths = np.array([len(cloud) for cloud in clouds], dtype=np.intp)
    return Images(clouds, "ragged", None, lengths)


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
    return Images(X, "grid", spatial_shape, lengths)


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
