"""Datasets, loaders, batch collation and held-out splits: how samples reach the net."""

# SPDX-License-Identifier: BSD-3-Clause

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch.dataset import Dataset
from torch.utils.data import (
    DataLoader,
    Sampler,
    Subset,
    default_collate,
    default_convert,
)

# Target code of positions that do not count: ignored labels and the padding of point clouds.
IGNORED = -1


class BatchBuffer:
    """Rows of arrays gathered into one buffer that every batch reuses.

    A new array of a few MiB per batch, freed at varying times, fragments the C heap until it
    holds several times what is live: glibc raises its mmap threshold after the first large
    free, and such arrays then come from the heap and stay there. A gathered batch is valid
    until the next one is gathered, which is how the loaders use batches.
    """

    def __init__(self):
        self._array = None

    def empty(self, shape, dtype):
        """An uninitialised array of ``shape`` in the buffer, grown to the largest batch."""
        array = self._array
        if array is None or len(array) < shape[0] or array.shape[1:] != tuple(shape[1:]):
            array = self._array = np.empty(shape, dtype=dtype)
        elif array.dtype != dtype:
            array = self._array = np.empty(array.shape, dtype=dtype)
        return array[: shape[0]]

    def gather(self, data, indices):
        """``data[indices]`` (an index array) in the buffer."""
        out = self.empty((len(indices), *data.shape[1:]), data.dtype)
        # mode="clip": the indices are valid, and the default mode gathers through a temporary.
        return np.take(data, indices, axis=0, out=out, mode="clip")


@runtime_checkable
class BatchSource(Protocol):
    """Validated input that makes its own batches, such as :class:`~ncestimators._inputs.Positions`.

    ``batch(indices)`` gives the model inputs of the samples at ``indices`` (an index array)
    as one array, valid until the next batch is made: sources gather batches into a buffer
    that every batch reuses. The base trains and predicts on a source through
    :class:`SourceDataset`.
    """

    def __len__(self): ...

    def batch(self, indices): ...


class SourceDataset(torch.utils.data.Dataset):
    """Batches of a :class:`BatchSource` with their targets: ``(inputs, targets)`` arrays.

    Indexed with an array of sample indices per batch (the base's ``BatchLoader``), so that
    only the samples of the current batch are read, also from a memory map; an integer index
    gives one sample, a copy (the loaders of single samples that accelerate needs collate
    several). Without targets (prediction), every target is a placeholder.
    """

    def __init__(self, source, targets=None):
        self.source = source
        self.targets = targets

    def __len__(self):
        return len(self.source)

    def __getitem__(self, indices):
        if np.ndim(indices) == 0:
            inputs, targets = self[np.array([indices])]
            return inputs[0].copy(), targets[0]
        inputs = self.source.batch(indices)
        if self.targets is None:
            return inputs, self._placeholder_targets(len(inputs))
        return inputs, self.targets[indices]

    def _placeholder_targets(self, n_samples):
        return np.zeros(n_samples, dtype=np.float32)


class PositionDataset(SourceDataset):
    """Batches of images as ``(features (B, P, D) float32, targets (B, P) int64)`` arrays.

    Without targets (prediction), every target is ``IGNORED``.
    """

    def _placeholder_targets(self, n_samples):
        return np.full((n_samples, self.source.n_positions), IGNORED)


class ArrayDataset(Dataset):
    """skorch's Dataset, indexing NumPy arrays (memory-mapped ones too) directly.

    skorch turns an index array into a list and hands it to scikit-learn's generic indexing,
    which checks the type of every element: with a small head that costs as much as the
    training step itself.

    A batch of inputs (an index array) is gathered into a :class:`BatchBuffer`.
    """

    def __init__(self, X, y=None, length=None):
        super().__init__(X, y, length=length)
        self._inputs = BatchBuffer()

    def __getitem__(self, i):
        if isinstance(self.X, np.ndarray) and isinstance(self.y, np.ndarray | None):
            if isinstance(i, np.ndarray):
                inputs = self._inputs.gather(self.X, i)
            else:
                inputs = self.X[i]
            return self.transform(inputs, None if self.y is None else self.y[i])
        return super().__getitem__(i)


class WeightedDataset(torch.utils.data.Dataset):
    """A dataset of ``(inputs, target)`` pairs with a weight per sample.

    Items are ``(inputs, {"target": target, "sample_weight": weight})``, for an integer index
    or an index array (a batch), which :class:`~ncestimators._nets.TrainingNet` hands to the loss.
    """

    def __init__(self, dataset, sample_weight):
        self.dataset = dataset
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        inputs, target = self.dataset[i]
        return inputs, {"target": target, "sample_weight": self.sample_weight[i]}


class BatchLoader(DataLoader):
    """DataLoader that fetches each batch with one indexing call instead of one per sample.

    Per-sample fetching and collation would cost more than the forward and backward pass of a
    small head.
    """

    def __init__(self, dataset, batch_size, shuffle=False, collate_fn=default_convert, **kwargs):
        batches = _BatchIndices(len(dataset), batch_size, shuffle=shuffle)
        # Without a generator of its own, every iteration draws a worker seed from torch's global
        # generator, so a plain predict call would change the caller's random state.
        kwargs.setdefault("generator", torch.Generator())
        super().__init__(dataset, batch_size=None, sampler=batches, collate_fn=collate_fn, **kwargs)

    def __iter__(self):
        if self.num_workers > 0 or self.pin_memory:
            return super().__iter__()
        # What the single-process iterator does, without its per-batch bookkeeping (a profiler
        # range, a seed draw), which costs about 1 % of a small head's fit.
        return (self.collate_fn(self.dataset[indices]) for indices in self.sampler)


class _BatchIndices(Sampler):
    """Yield NumPy index arrays of ``batch_size`` positions, shuffled with torch's generator."""

    def __init__(self, n_samples, batch_size, *, shuffle):
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __iter__(self):
        order = (
            torch.randperm(self.n_samples).numpy() if self.shuffle else np.arange(self.n_samples)
        )
        return (
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        )

    def __len__(self):
        return -(-self.n_samples // self.batch_size)


class HoldoutSplit:
    """skorch ``train_split`` holding out a fraction of the training data for model selection.

    Stratified on class labels when every class has at least two samples; a plain shuffled split
    otherwise (long-tailed data often has classes with a single sample).
    """

    def __init__(self, fraction, *, stratify, random_state):
        self.fraction = fraction
        self.stratify = stratify
        self.random_state = random_state

    def __call__(self, dataset, y=None, **fit_params):
        indices = np.arange(len(dataset))
        strata = None
        if self.stratify and y is not None:
            counts = np.unique(np.asarray(y), return_counts=True)[1]
            n_valid = int(np.ceil(self.fraction * len(indices)))
            if counts.min() >= 2 and len(counts) <= n_valid <= len(indices) - len(counts):
                strata = np.asarray(y)
        train, valid = train_test_split(
            indices, test_size=self.fraction, stratify=strata, random_state=self.random_state
        )
        return Subset(dataset, train), Subset(dataset, valid)


def crop_padding_collate(batch):
    """Convert a batch of NaN-padded sequences to tensors, dropping all-padding steps.

    Steps are ``(D,)`` feature vectors or larger (a clip of frames); a padding step is all NaN.
    Videos in one data set differ a lot in length; cropping each batch to its longest member keeps
    the cost proportional to the real number of time steps. ``batch`` is what
    :class:`BatchLoader` fetches, or a list of samples (the loaders of the accelerate path).
    """
    inputs, *rest = default_collate(batch) if isinstance(batch, list) else default_convert(batch)
    observed = ~torch.isnan(inputs.flatten(2)[..., 0])
    length = int(observed.any(dim=0).nonzero().max()) + 1
    return (inputs[:, :length], *rest)
