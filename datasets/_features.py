"""Extracted features in the per-video layout the loaders read: extract once, train often."""

# SPDX-License-Identifier: BSD-3-Clause

import os
from collections import Counter
from pathlib import Path

import numpy as np

__all__ = ["save_features"]


def save_features(directory, names, features):
    """Write one ``<name>.npy`` file per video or image.

    The layout of the public feature releases, which :func:`load_aqa_features` (``root/<clip
    folder>/<name>.npy``) and :func:`load_wtal_features` (``root/features/<split>/rgb/<name>.npy``
    and ``.../flow/...``) read. Extract features once, with
    :class:`~ncestimators.adapters.ClipFeatures` or
    :class:`~ncestimators.adapters.BackboneFeatures`, save them, and train heads on them as
    often as a search needs.

    Parameters
    ----------
    directory : str or path-like
        Folder of the files; created if missing.

    names : sequence of str
        One distinct file name (without ``.npy``) per item, e.g. video names.

    features : sequence of array-like
        The features of each item, e.g. ``(n_clips, D)`` arrays; written as they are (no
        pickling, so any numeric dtype).

    Returns
    -------
    paths : list of pathlib.Path
        The files written, in the order of ``names``.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from ncestimators.datasets import save_features
    >>> folder = tempfile.mkdtemp()
    >>> paths = save_features(folder, ["v1", "v2"], [np.ones((3, 4)), np.zeros((5, 4))])
    >>> [path.name for path in paths], np.load(paths[1]).shape
    (['v1.npy', 'v2.npy'], (5, 4))
    """
    names = check_file_names(names)
    features = list(features)
    if len(names) != len(features):
        raise ValueError(
            f"names has {len(names)} entries but features has {len(features)}; pass one name "
            "per item."
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, values in zip(names, features, strict=True):
        array = np.asarray(values)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"The features of {name!r} are not numeric (dtype {array.dtype}).")
        path = directory / f"{name}.npy"
        np.save(path, array, allow_pickle=False)
        paths.append(path)
    return paths


def check_file_names(names):
    """``names`` as strings, each usable as a file name in one folder: a ValueError otherwise.

    A name must be non-empty, contain no path separator and differ from every other name (a
    repeated name would overwrite the other item's file).
    """
    names = [str(name) for name in names]
    bad = [name for name in names if not name or os.sep in name or name in (".", "..")]
    if bad:
        raise ValueError(f"File names must be non-empty and contain no {os.sep!r}: {bad[:3]}.")
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(
            f"names must be distinct, or one item's file overwrites another's; {len(repeated)} "
            f"repeated: {repeated[:5]}{' ...' if len(repeated) > 5 else ''}."
        )
    return names
