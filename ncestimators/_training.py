"""Private training machinery: the skorch net, held-out splits, seeding, devices, padded batches."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import Dataset
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor
from torch import nn
from torch.utils.data import (
    DataLoader,
    Sampler,
    Subset,
    default_collate,
    default_convert,
)

from ._inputs import BatchBuffer
from .exceptions import DeviceWarning

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


class TrainingHealth(Callback):
    """Stop a fit whose loss is not finite; warn once when the loss explodes.

    Exploding means the epoch's training loss is more than ``factor`` times the first training
    batch's loss of this fit (with losses below 1 counted as 1, so that a loss that starts near
    zero may wander): a step size far too large for the loss, which otherwise trains to garbage
    without a word.
    """

    def __init__(self, factor=100.0):
        self.factor = factor

    def on_train_begin(self, net, **kwargs):
        self.initial_loss_ = None
        self.warned_ = False

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            raise ValueError(
                f"Training diverged: the training loss is {loss} in epoch {epoch}. "
                "Lower lr, standardise the features, or check them for extreme values."
            )
        if self.initial_loss_ is None:
            self.initial_loss_ = net.history[-1, "batches", 0, "train_loss"]
        if not self.warned_ and loss > self.factor * max(abs(self.initial_loss_), 1.0):
            self.warned_ = True
            warnings.warn(
                f"The training loss exploded: {loss:.3g} in epoch {epoch}, against "
                f"{self.initial_loss_:.3g} on the first batch. The model is likely garbage; "
                f"lower lr (now {net.lr}) or standardise the features.",
                ConvergenceWarning,
                stacklevel=2,
            )


class EpochSteps:
    """Protocol of heads and losses that act once per epoch, besides every batch.

    :class:`EpochHooks` calls :meth:`start_epoch` before each training epoch and
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


class EpochHooks(Callback):
    """Run the :class:`EpochSteps` of the net's loss and module at each epoch's start and end.

    A dict returned by ``end_epoch`` is recorded in the epoch's history row (keys starting with
    ``event_`` stay out of the printed epoch table), so that it survives warm starts and
    checkpoints.
    """

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        for owner in _epoch_step_owners(net):
            owner.start_epoch(epoch, net.max_epochs)

    def on_epoch_end(self, net, **kwargs):
        for owner in _epoch_step_owners(net):
            for key, value in (owner.end_epoch() or {}).items():
                net.history.record(key, value)


def _epoch_step_owners(net):
    owners = (unwrap_module(net.criterion_), unwrap_module(net.module_))
    return [owner for owner in owners if isinstance(owner, EpochSteps)]


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


class BestWeightsStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, keeping the best weights under the unwrapped module's names.

    Under an accelerator the module is wrapped in DistributedDataParallel during the epochs and
    unwrapped when training ends, so weights saved with the wrapper's ``module.`` prefix would
    not load into it.
    """

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)  # raises KeyboardInterrupt to stop
        finally:
            if self.best_model_weights_ is not None:
                self.best_model_weights_ = _unwrapped_names(net.module_, self.best_model_weights_)


def _unwrapped_names(module, state):
    """``module``'s state dict ``state`` with the names of its unwrapped module."""
    inner = unwrap_module(module)
    if inner is module:
        return state
    prefix = next(name for name, child in module.named_modules() if child is inner) + "."
    return {name.removeprefix(prefix): value for name, value in state.items()}


def interrupted(net, n_epochs):
    """Whether a KeyboardInterrupt (Ctrl-C, or a callback's) ended the fit that ran n_epochs.

    skorch catches it and returns the net as it was; early stopping ends a fit the same way,
    so a fit that early stopping ended, or that ran all its epochs, was not interrupted.
    """
    if n_epochs >= net.max_epochs and "train_loss" in net.history[-1]:
        return False
    stopper = dict(net.callbacks_).get("early_stopping")
    return stopper is None or stopper.misses_ < stopper.patience


class GradientClipping(Callback):
    """Scale each step's gradient down to a norm of at most ``max_norm`` (over all parameters).

    Under an accelerator the gradients are clipped by ``accelerator.clip_grad_norm_``, which
    first undoes the loss scaling of fp16 mixed precision (skorch's ``GradientNormClipping``
    would clip the scaled gradients).
    """

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def on_grad_computed(self, net, named_parameters, **kwargs):
        parameters = [parameter for _, parameter in named_parameters]
        accelerator = getattr(net, "accelerator", None)
        clip = (
            torch.nn.utils.clip_grad_norm_ if accelerator is None else accelerator.clip_grad_norm_
        )
        clip(parameters, self.max_norm)


class TrainingNet(NeuralNet):
    """skorch's net whose loss also takes per-sample weights.

    Targets of a :class:`WeightedDataset` arrive as ``{"target": ..., "sample_weight": ...}``
    and are passed on as ``criterion(outputs, target, sample_weight=weights)``; other targets
    as ``criterion(outputs, target)``. ``shuffle_generator_`` is the generator that shuffles
    the training batches when it is not torch's global one (None), for checkpoints to save.
    """

    shuffle_generator_ = None

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not isinstance(y_true, dict):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, y_true["target"], sample_weight=y_true["sample_weight"])


class WeightedDataset(torch.utils.data.Dataset):
    """A dataset of ``(inputs, target)`` pairs with a weight per sample.

    Items are ``(inputs, {"target": target, "sample_weight": weight})``, for an integer index
    or an index array (a batch), which :class:`TrainingNet` hands to the loss.
    """

    def __init__(self, dataset, sample_weight):
        self.dataset = dataset
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        inputs, target = self.dataset[i]
        return inputs, {"target": target, "sample_weight": self.sample_weight[i]}


class AcceleratedNet(AccelerateMixin, TrainingNet):
    """skorch's net under a Hugging Face ``Accelerator``: one fit over several devices.

    The loss modules have no parameters, so they are not handed to the accelerator (under
    several CPU processes, accelerate would wrap them in DistributedDataParallel, which refuses
    modules without parameters).
    """

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if training:
            # accelerate shuffles with a generator of its own, seeded once per fit.
            self.shuffle_generator_ = getattr(iterator, "synchronized_generator", None)
        return iterator

    def _initialize_accelerator(self):
        criteria = {name: getattr(self, name + "_") for name in self._criteria}
        for name in criteria:
            setattr(self, name + "_", None)
        super()._initialize_accelerator()
        for name, criterion in criteria.items():
            setattr(self, name + "_", criterion)
        return self


class Network(EpochSteps, nn.Module):
    """The net's module: the estimator's head, behind an optional stem.

    The stem is a backbone that ``FineTune`` puts in front of the head, mapping raw inputs
    (images, videos) to the head's features; without one, the head reads the features
    directly. A head that compares two views of each sample (``takes_views``) gets the stem's
    outputs of two independent augmentations in training, when the stem augments.
    """

    def __init__(self, head, stem=None):
        super().__init__()
        self.head = head
        self.stem = stem

    def forward(self, inputs):
        if self.stem is None:
            return self.head(inputs)
        if self.training and self.stem.augments and getattr(self.head, "takes_views", False):
            return self.head((self.stem(inputs), self.stem(inputs)))
        return self.head(self.stem(inputs))

    def run(self, method, inputs):
        """The head's ``method`` (``forward``, ``embed``, ...) on the stem's features."""
        features = inputs if self.stem is None else self.stem(inputs)
        return getattr(self.head, method)(features)

    def start_epoch(self, epoch, max_epochs):
        if isinstance(self.head, EpochSteps):
            self.head.start_epoch(epoch, max_epochs)

    def end_epoch(self):
        return self.head.end_epoch() if isinstance(self.head, EpochSteps) else None


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


def split_padding(inputs):
    """Return ``(inputs with padding set to 0, mask of real steps)`` for ``(B, T, D)`` input."""
    mask = ~torch.isnan(inputs[..., 0])
    return torch.nan_to_num(inputs, nan=0.0), mask


def resolve_device(device):
    """Turn the ``device`` parameter into a torch device string.

    ``"auto"`` picks CUDA when available. An explicit CUDA device without CUDA falls back to the
    CPU with a :class:`~ncestimators.exceptions.DeviceWarning`, so scripts written for a GPU
    machine still run elsewhere.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from error
    if parsed.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"device={device!r} was requested but CUDA is not available; training on the CPU.",
            DeviceWarning,
            stacklevel=3,
        )
        return "cpu"
    return device


def draw_seed(random_state):
    """One integer seed per fit, drawn without touching NumPy's global random state.

    An int gives the same seed every time; a ``RandomState`` instance is advanced (the caller asked
    for that); None draws fresh entropy from the operating system.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    return int(np.random.RandomState(random_state).randint(2**31 - 1))


@contextlib.contextmanager
def seeded(seed):
    """Seed torch inside the block and restore the caller's CPU and CUDA generators afterwards."""
    devices = range(torch.cuda.device_count()) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def to_cpu(outputs):
    """Detach a tensor, or each tensor of a tuple, onto the CPU."""
    if isinstance(outputs, tuple):
        return tuple(to_cpu(output) for output in outputs)
    return outputs.detach().cpu()


def to_numpy(outputs):
    """A tensor, or each tensor of a tuple, as a float64 NumPy array (scikit-learn's outputs)."""
    if isinstance(outputs, tuple):
        return tuple(to_numpy(output) for output in outputs)
    return outputs.detach().cpu().numpy().astype(np.float64)
