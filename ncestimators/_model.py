"""Torch building blocks of the networks, shared by the heads and the base."""

# SPDX-License-Identifier: BSD-3-Clause

from typing import Protocol, runtime_checkable

import torch
from torch import nn


class EpochSteps:
    """Protocol of heads and losses that act once per epoch, besides every batch.

    :class:`~ncestimators._nets.EpochHooks` calls :meth:`start_epoch` before each training epoch and
    :meth:`end_epoch` after it (after validation), on the loss and on the head, whatever wraps
    them (DistributedDataParallel, ``torch.compile``). Schedules such as AllNC's curriculum
    weight need the epoch index; once-per-epoch steps such as the label-to-prototype
    reassignment use statistics gathered over the epoch. Under several processes, statistics
    that the steps read are summed over the processes with :func:`sum_over_processes`, so that
    every process takes the same step.
    """

    def start_epoch(self, epoch, max_epochs):
        """Called before training epoch ``epoch`` (0-based) of ``max_epochs``."""

    def end_epoch(self):
        """Called after each epoch; a returned dict is recorded in the epoch's history row."""
        return None


def unwrap_module(module):
    """The module without the wrappers that do not forward attributes.

    DistributedDataParallel and DataParallel keep the module in ``.module``, ``torch.compile``
    in ``._orig_mod``; wrappers may be nested (a compiled module under DDP).
    """
    while True:
        if isinstance(module, nn.parallel.DistributedDataParallel | nn.DataParallel):
            module = module.module
        elif "_orig_mod" in module._modules:  # torch.compile's OptimizedModule
            module = module._orig_mod
        else:
            return module


def sum_over_processes(tensor):
    """``tensor`` summed over the processes of the default process group, in place; returned.

    The convention of ``torch.nn.SyncBatchNorm``: a training statistic is global whenever a
    process group is initialised, so that a statistic read by an epoch step is the same on
    every process (and equal to one process's on the whole batch). Without a process group,
    the tensor is returned unchanged.
    """
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        if distributed.get_world_size() > 1:
            distributed.all_reduce(tensor)
    return tensor


class ComparesViews:
    """Protocol of heads that, in training, compare two views of each sample (AllNC's HyCon).

    In training mode such a head takes either a batch of features, of which it makes two views
    itself, or a pair ``(view_a, view_b)`` of feature batches: :class:`Network` gives it the
    stem's outputs of two independent augmentations when the stem augments.
    """


class StemModule(nn.Module):
    """What a :class:`Stem` builds: raw input batches (images, clips) to the head's features.

    All its parameters are the backbone's. ``augments`` says whether it augments its inputs in
    training, so that two calls on one batch give two views.
    """

    @property
    def augments(self):
        return False


@runtime_checkable
class Stem(Protocol):
    """A backbone in front of an estimator's head: what ``FineTune`` gives an estimator.

    The estimator takes it through :func:`~ncestimators._base.attach_stem`, then reads its X
    with the stem instead of the validator of its input kind; the head and the loss do not
    change.

    * ``validate(X, *, reset)`` reads raw input (images, videos) and returns ``(inputs,
      n_features)``: what the network reads (an array, or a
      :class:`~ncestimators._data.BatchSource`) and how many features the stem gives the head.
      With ``reset`` (in fit) the stem learns the layout of the input and keeps it (channel
      order, image size, feature grid); without, it reads X in that layout.
    * ``build()`` returns a fresh :class:`StemModule` for the layout learned last.
    * ``learning_rate`` is the backbone's own learning rate, or None for the estimator's.

    Two stems compare equal when they build the same network, which a warm start then goes on
    training.
    """

    learning_rate: float | None

    def validate(self, X, *, reset): ...

    def build(self): ...


class Network(EpochSteps, nn.Module):
    """The net's module: the estimator's head, behind an optional stem.

    The stem (a :class:`StemModule`) maps raw inputs (images, videos) to the head's features;
    without one, the head reads the features directly. A :class:`ComparesViews` head gets the
    stem's outputs of two independent augmentations in training, when the stem augments.
    """

    def __init__(self, head, stem=None):
        super().__init__()
        self.head = head
        self.stem = stem

    def forward(self, inputs):
        if self.stem is None:
            return self.head(inputs)
        if self.training and self.stem.augments and isinstance(self.head, ComparesViews):
            return self.head((self.stem(inputs), self.stem(inputs)))
        return self.head(self.stem(inputs))

    def backbone_parameters(self):
        """The stem's parameters, which all belong to the backbone; none without a stem."""
        return [] if self.stem is None else list(self.stem.parameters())

    def run(self, method, inputs):
        """The head's ``method`` (``forward``, ``embed``, ...) on the stem's features."""
        features = inputs if self.stem is None else self.stem(inputs)
        return getattr(self.head, method)(features)

    def start_epoch(self, epoch, max_epochs):
        if isinstance(self.head, EpochSteps):
            self.head.start_epoch(epoch, max_epochs)

    def end_epoch(self):
        return self.head.end_epoch() if isinstance(self.head, EpochSteps) else None


def mlp(n_features, hidden_dims, n_outputs):
    """``Linear -> LayerNorm -> ReLU`` per hidden width, then a linear output layer.

    LayerNorm rather than BatchNorm, so that a sample's output never depends on its batch.
    """
    layers = []
    for width in hidden_dims:
        layers += [nn.Linear(n_features, width), nn.LayerNorm(width), nn.ReLU()]
        n_features = width
    layers.append(nn.Linear(n_features, n_outputs))
    return nn.Sequential(*layers)


def split_padding(inputs):
    """Return ``(inputs with padding set to 0, mask of real steps)`` for ``(B, T, D)`` input."""
    mask = ~torch.isnan(inputs[..., 0])
    return torch.nan_to_num(inputs, nan=0.0), mask


def class_codes(scores):
    """Arg-max over the last axis, in the smallest integer type that holds the class count."""
    return scores.argmax(dim=-1).to(torch.uint8 if scores.shape[-1] <= 256 else torch.int64)
