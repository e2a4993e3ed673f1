"""Feature extraction over many videos or images, sharded across dask workers."""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import clone

from ncestimators.datasets import save_features
from ncestimators.datasets._features import check_file_names

__all__ = ["extract_to_files"]


def extract_to_files(extractor, X, names, directory, *, client=None, shard_size=64):
    """Extract features shard by shard and save one ``<name>.npy`` file per item.

    Each shard of ``shard_size`` items is one task: the extractor (cloned, so each worker
    loads its own backbone on its own device) is fitted and run on the shard, and the
    shard's features are written with :func:`~ncestimators.datasets.save_features`. With a
    ``dask.distributed`` client the shards run on its workers; without one, here, one after
    the other. Give each worker one GPU (``CUDA_VISIBLE_DEVICES=i dask worker ...
    --nthreads 1``) and the shards spread over the GPUs. Workers must see ``directory``.

    Parameters
    ----------
    extractor : BackboneFeatures, ClipFeatures or DenseFeatures
        The extractor and its settings (not necessarily fitted).

    X : sequence
        Videos or images: paths (cheap to send to workers) or arrays.

    names : sequence of str
        One distinct file name per item; all of them are checked before any shard runs.

    directory : str or path-like
        Folder of the ``.npy`` files; created if missing.

    client : distributed.Client, default=None
        Where to run the shards; None runs them in this process.

    shard_size : int, default=64
        Items per task.

    Returns
    -------
    paths : list of pathlib.Path
        The files written, in the order of ``names``.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from torch import nn
    >>> from ncestimators.adapters import BackboneFeatures, extract_to_files
    >>> images = np.zeros((5, 8, 8, 3), dtype=np.uint8)
    >>> extractor = BackboneFeatures(nn.Conv2d(3, 4, 3), device="cpu")
    >>> paths = extract_to_files(extractor, images, list("abcde"), tempfile.mkdtemp(),
    ...                          shard_size=2)
    >>> [path.name for path in paths], np.load(paths[0]).shape
    (['a.npy', 'b.npy', 'c.npy', 'd.npy', 'e.npy'], (4,))
    """
    names = check_file_names(names)
    if len(names) != len(X):
        raise ValueError(f"X has {len(X)} items but names has {len(names)}; pass one name each.")
    if shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}.")
    shards = [
        (X[start : start + shard_size], names[start : start + shard_size])
        for start in range(0, len(names), shard_size)
    ]
    if client is None:
        parts = [_extract_shard(extractor, items, shard, directory) for items, shard in shards]
    else:
        futures = [
            client.submit(_extract_shard, extractor, items, shard, directory, pure=False)
            for items, shard in shards
        ]
        parts = client.gather(futures)
    return [path for part in parts for path in part]


def _extract_shard(extractor, items, names, directory):
    features = clone(extractor).fit(items).transform(items)
    return save_features(directory, names, list(features))
