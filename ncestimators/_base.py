"""The base every ncestimators estimator shares: parameters, validation, seeding, training."""

# SPDX-License-Identifier: BSD-3-Clause

import copy
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, validate_data
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, ProgressBar

from ._training import (
    OPTIMIZERS,
    ArrayDataset,
    BatchLoader,
    EpochHooks,
    HoldoutSplit,
    crop_padding_collate,
    draw_seed,
    resolve_device,
    seeded,
)

__all__ = []


class TorchEstimatorBase(BaseEstimator, metaclass=ABCMeta):
    """Shared machinery of the ncestimators estimators; not a public class.

    A subclass declares its own parameters (all of them, common ones included, explicitly in
    ``__init__``), merges :attr:`_parameter_constraints`, and implements two hooks:

    * :meth:`_build_module` returns the torch head for ``n_features`` input features;
    * :meth:`_build_criterion` returns the loss as an ``nn.Module`` called as
      ``criterion(module_output, target)``.

    Keeping the head and its loss apart lets a backbone be put in front of the head without the
    estimator knowing. ``fit`` validates the data, encodes the target, and calls
    :meth:`_train`, which owns seeding, devices, the held-out split, early stopping and warm
    starts, and stores the fitted skorch net as ``net_``.
    """

    _parameter_constraints: dict = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "validation_fraction": [Interval(RealNotInt, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    @abstractmethod
    def _build_module(self, n_features):
        """Return the torch head mapping ``n_features``-dimensional inputs to its outputs."""

    @abstractmethod
    def _build_criterion(self):
        """Return the training loss as an ``nn.Module``: ``criterion(outputs, target)``."""

    def _train(self, X, y, *, stratify=False, sequences=False):
        """Fit the head on float32 ``X`` and the encoded target ``y``; set ``net_``, ``history_``.

        ``stratify`` makes the held-out split stratified on ``y``; ``sequences`` crops each batch
        of NaN-padded sequences to its longest member.
        """
        device = resolve_device(self.device)
        seed = draw_seed(self.random_state)
        with seeded(seed):
            if self._can_continue(device):
                net = self.net_
                net.set_params(max_epochs=self.max_epochs)
                net.partial_fit(X, y)
            else:
                # A failed fit must not leave an earlier net looking like the fitted model.
                self.__dict__.pop("net_", None)
                net = self._make_net(device, seed, stratify=stratify, sequences=sequences)
                net.fit(X, y)
        self.net_ = net
        self._trained_on = self._data_signature()
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        return self

    def _make_net(self, device, seed, *, stratify, sequences):
        callbacks = [("epoch_hooks", EpochHooks())]
        train_split = None
        if self.validation_fraction is not None:
            train_split = HoldoutSplit(
                self.validation_fraction, stratify=stratify, random_state=seed
            )
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(patience=self.n_iter_no_change, load_best=True, sink=_silent),
                )
            )
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks.extend(copy.deepcopy(self.callbacks or []))
        collate = {}
        if sequences:
            collate = {
                "iterator_train__collate_fn": crop_padding_collate,
                "iterator_valid__collate_fn": crop_padding_collate,
            }
        optimizer_params = {"optimizer__weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            optimizer_params["optimizer__momentum"] = 0.9
        return NeuralNet(
            module=self._build_module(self.n_features_in_),
            criterion=self._build_criterion(),
            optimizer=OPTIMIZERS[self.optimizer],
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            dataset=ArrayDataset,
            iterator_train=BatchLoader,
            iterator_valid=BatchLoader,
            iterator_train__shuffle=True,
            train_split=train_split,
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose),
            **optimizer_params,
            **collate,
        )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def _can_continue(self, device):
        """Whether ``warm_start`` can go on training the current net on this data."""
        return (
            self.warm_start
            and hasattr(self, "net_")
            and self.net_.device == device
            and self._trained_on == self._data_signature()
        )

    def _data_signature(self):
        """What the head's shape depends on: the feature count and, for classifiers, the classes."""
        return self.n_features_in_, tuple(getattr(self, "classes_", ()))


def _silent(*args, **kwargs):
    """Sink for skorch's early-stopping message; the epoch table already shows the best epoch."""


def encode_classes(estimator, y):
    """Fit ``classes_`` on classification targets; return ``y`` as int64 codes.

    Raises a ValueError naming the class when ``y`` has a single class: there is nothing to learn.
    """
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; y has only one "
            f"class: {encoder.classes_.tolist()[0]!r}."
        )
    estimator.classes_ = encoder.classes_
    return encoder.transform(y).astype(np.int64)


def check_hidden_dims(hidden_dims):
    """Raise a ValueError unless ``hidden_dims`` holds positive integers."""
    if not all(isinstance(width, Integral) and width >= 1 for width in hidden_dims):
        raise ValueError(
            f"hidden_dims must contain positive integers, got {hidden_dims!r}; e.g. (256,) for "
            "one hidden layer or () for none."
        )


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
    """Validate sequence input and return ``(X, lengths)`` with X float32 ``(n, T_max, D)``.

    Accepted forms, all of which describe ``n`` sequences of ``D``-dimensional steps:

    * a list of ``(T_i, D)`` arrays (ragged);
    * an ``(n, T, D)`` array whose shorter sequences end in all-NaN rows (padding);
    * an ``(n, D)`` array or DataFrame: ``n`` sequences of length 1.

    Missing values inside a sequence, sequences without steps, mixed ``D`` and a ``D`` other
    than the fitted one raise ValueError. ``n_features_in_`` is ``D`` (and ``feature_names_in_``
    is set for DataFrames) when ``reset`` is true.
    """
    name = type(estimator).__name__
    if _is_ragged(X):
        X = _pad_ragged(X)
    elif _ndim(X) != 3:
        X = check_features(estimator, X, reset=reset)
        return X[:, None, :], np.ones(len(X), dtype=np.intp)
    X = check_array(
        X,
        dtype=[np.float32, np.float64],
        allow_nd=True,
        ensure_all_finite="allow-nan",
        input_name="X",
    )
    X = as_float32(X)
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"X of shape {X.shape} has no time steps or no features.")
    lengths = _sequence_lengths(X)
    if reset:
        estimator.n_features_in_ = X.shape[2]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif X.shape[2] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[2]} features, but {name} is expecting {estimator.n_features_in_} "
            "features as input."
        )
    return X, lengths


def _ndim(X):
    """Number of dimensions of X without converting it (array-likes may refuse NumPy functions)."""
    if hasattr(X, "ndim"):
        return X.ndim
    return np.ndim(X) if isinstance(X, list | tuple) else None


def _is_ragged(X):
    return (
        isinstance(X, list | tuple) and len(X) > 0 and all(np.ndim(sequence) == 2 for sequence in X)
    )


def _pad_ragged(sequences):
    arrays = [np.asarray(sequence) for sequence in sequences]
    widths = {array.shape[1] for array in arrays}
    if len(widths) > 1:
        raise ValueError(
            f"All sequences must have the same number of features; got {sorted(widths)}. "
            "Extract them with the same backbone, or pad/crop the feature axis."
        )
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
    padded = np.full((len(arrays), max(map(len, arrays)), widths.pop()), np.nan, dtype)
    for index, array in enumerate(arrays):
        padded[index, : len(array)] = array
    return padded


def _sequence_lengths(X):
    """Lengths of NaN-padded sequences; ValueError for NaN or inf that is not trailing padding."""
    missing = np.isnan(X)
    padding = missing.all(axis=2)
    lengths = X.shape[1] - np.cumprod(padding[:, ::-1], axis=1).sum(axis=1)
    real = np.arange(X.shape[1]) < lengths[:, None]
    if (missing.any(axis=2) & real).any():
        video = int(np.nonzero((missing.any(axis=2) & real).any(axis=1))[0][0])
        raise ValueError(
            f"X contains NaN inside sequence {video}. NaN is only allowed as whole trailing rows "
            "(padding); impute or drop the missing values."
        )
    if (lengths == 0).any():
        video = int(np.nonzero(lengths == 0)[0][0])
        raise ValueError(f"Sequence {video} is all padding (no time steps); drop it from X.")
    if np.isinf(X[real]).any():
        raise ValueError("X contains infinity; replace or drop those values.")
    return lengths.astype(np.intp)
