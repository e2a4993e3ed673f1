"""The template every ncestimators estimator is built on: one fit, one forward, one warm start."""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import itertools
import os
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import joblib
import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_consistent_length
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import ProgressBar
from skorch.dataset import unpack_data
from skorch.helper import predefined_split
from skorch.utils import to_device

from ._data import (
    ArrayDataset,
    BatchLoader,
    BatchSource,
    HoldoutSplit,
    SourceDataset,
    WeightedDataset,
    crop_padding_collate,
)
from ._inputs import check_features, check_positions, check_sequences, encode_classes
from ._model import Network, Stem, class_codes, unwrap_module
from ._nets import (
    OPTIMIZERS,
    AcceleratedNet,
    BestWeightsStopping,
    EpochHooks,
    TrainingHealth,
    TrainingNet,
    interrupted,
)
from ._runtime import draw_seed, resolve_device, seeded, to_cpu, to_numpy
from .callbacks import TrainingCheckpoint
from .exceptions import WarmStartWarning, warn

__all__ = []

# Parameters that change how a fit runs, not what it trains: a checkpoint of a fit resumes
# whatever their values.
_RUN_PARAMS = {"max_epochs", "verbose", "device", "callbacks", "accelerator", "warm_start"}

_EVALUATION_VALUES = 2**22  # input values per evaluation batch: 16 MiB of float32

_INPUT_VALIDATORS = {
    "features": check_features,
    "sequences": check_sequences,
    "positions": check_positions,
}


class TorchEstimatorBase(BaseEstimator, metaclass=ABCMeta):
    """Template of the ncestimators estimators: it owns ``fit`` and the forward pass.

    A subclass declares its parameters (all of them, the common ones included, explicitly in
    ``__init__``), merges :attr:`_parameter_constraints`, and fills in the template:

    ===============================  ===========================================================
    Class attribute or hook          Role (default)
    ===============================  ===========================================================
    ``_input_kind``                  "features", "sequences" or "positions": which validator of
                                     ``ncestimators._inputs`` reads X ("features").
    ``_network_params``              Names of the parameters that shape the network; changing
                                     one makes a warm refit start afresh (none).
    ``_stratify_holdout``            Whether the ``validation_fraction`` split is stratified on
                                     y (False).
    ``_encode_target(X, y, reset)``  y as the loss's target; with ``reset``, sets ``classes_``
                                     and the like, without, encodes validation targets with
                                     them (class codes).
    ``_check_params_for_data(X)``    Check parameters against the data, set what they resolve
                                     to (nothing).
    ``_build_module(n_features)``    The torch head for ``n_features`` input features.
    ``_build_criterion()``           The loss, ``criterion(head_outputs, target)``.
    ``_read_fitted(head)``           Set fitted attributes from the trained head (nothing).
    ``_dataset(X, y=None)``          What the net iterates over for validated X (X itself):
                                     a torch Dataset of ``(inputs, target)`` pairs, an array,
                                     or a :class:`~ncestimators._data.BatchSource` (which
                                     a stem's validation may also return).
    ``_training_callbacks()``        skorch callbacks that are part of the method's training
                                     recipe, such as a learning-rate schedule (none).
    ===============================  ===========================================================

    ``FineTune`` puts a backbone in front of the head by giving the estimator a
    :class:`~ncestimators._model.Stem` through :func:`attach_stem`: the stem then reads X
    (images, videos) in place of the input kind's validator and gives ``n_features_in_``, its
    module runs before the head in :class:`~ncestimators._model.Network`, and its learning
    rate applies to the backbone's parameters. The head and the loss do not change.

    ``fit`` runs: validate X → encode y → check lengths and weights → validate and encode
    ``X_val``, ``y_val`` → check parameters → train → read fitted attributes. Every loss takes
    ``criterion(outputs, target, sample_weight=None)``: with weights, a ``(B,)`` tensor.
    Every predict-like method goes through :meth:`_forward` (or
    :meth:`_forward_batches`), one batched, gradient-free pass of the head in eval mode.

    Heads and losses get every parameter through their constructors, and both tell training
    from evaluation by ``self.training`` (skorch switches them together). In training mode a
    head returns what its loss needs beyond the predictions; in eval mode, the predictions.
    State that training learns lives in persistent buffers or parameters; buffers derived from
    constructor arguments are non-persistent, so that a rebuilt head or loss keeps its new
    values when the learned state is loaded into it.

    **Warm start**, one rule: with ``warm_start=True``, a refit builds the net anew from the
    current parameters and loads the learned state of the previous one, so every changed
    parameter outside ``_network_params`` takes effect and training goes on (the epoch count
    too; the optimizer starts afresh, as in ``MLPClassifier``). If a parameter of
    ``_network_params``, the number of features or the classes changed, the refit trains a
    fresh network instead and says so with a :class:`~ncestimators.exceptions.WarmStartWarning`.
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
        "accelerator": [HasMethods(["prepare", "unwrap_model"]), None],
    }

    _input_kind = "features"
    _network_params = ()
    _stratify_holdout = False
    _stem = None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Train the estimator's network on X and y.

        Parameters
        ----------
        X : array-like or sequence of array-like
            Training input in any form the estimator accepts (see its class docstring):
            feature vectors, sequences of clip or snippet features, or per-position features.

        y : array-like or sequence of array-like
            Targets of the estimator's task: classes, scores, video labels or per-position
            labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample (each video, each image), multiplying its terms
            in the loss's mean; None weighs every sample 1. Held-out samples of
            ``validation_fraction`` keep their weights in the validation loss.

        X_val, y_val : same kinds as X and y, default=None
            A fixed validation set (a benchmark's own validation split): its loss is recorded
            as ``valid_loss`` after every epoch, and training stops early after
            ``n_iter_no_change`` epochs without improvement, keeping the best epoch's network.
            Pass both or neither; it replaces the random split of ``validation_fraction``,
            which must then be None. Its samples weigh 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = self._validate_input(X, reset=True)
        y = self._encode_target(X, y)
        check_consistent_length(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float32, ensure_non_negative=True
            )
        validation = self._validation_set(X_val, y_val)
        self._check_params_for_data(X)
        self._train(X, y, sample_weight, validation)
        self._read_fitted(self._head)
        return self

    @abstractmethod
    def _build_module(self, n_features):
        """Return the torch head mapping ``n_features``-dimensional inputs to its outputs."""

    @abstractmethod
    def _build_criterion(self):
        """Return the training loss as an ``nn.Module``: ``criterion(outputs, target)``."""

    def _validate_input(self, X, *, reset):
        if self._stem is None:
            return _INPUT_VALIDATORS[self._input_kind](self, X, reset=reset)
        inputs, n_features = self._stem.validate(X, reset=reset)
        if reset:
            self.n_features_in_ = n_features
            self.__dict__.pop("feature_names_in_", None)
        return inputs

    def _encode_target(self, X, y, *, reset=True):
        """Class codes of y; estimators that are not single-label classifiers override this."""
        return encode_classes(self, y, reset=reset)

    def _validation_set(self, X_val, y_val):
        """``(X_val, y_val)`` validated and encoded like the training data, or None."""
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            missing = "X_val" if X_val is None else "y_val"
            raise ValueError(f"{missing} is None; pass both X_val and y_val, or neither.")
        if self.validation_fraction is not None:
            raise ValueError(
                f"X_val is given and validation_fraction={self.validation_fraction}: both ask "
                "for a validation set. Set validation_fraction=None to validate on X_val, or "
                "drop X_val for a random split."
            )
        X_val = self._validate_input(X_val, reset=False)
        y_val = self._encode_target(X_val, y_val, reset=False)
        check_consistent_length(X_val, y_val)
        return X_val, y_val

    def _check_params_for_data(self, X):
        """Check parameters that depend on the data; nothing to check by default."""

    def _read_fitted(self, head):
        """Set fitted attributes from the trained head; none by default."""

    def _dataset(self, X, y=None):
        return X

    def _training_callbacks(self):
        """``(name, callback)`` pairs of the training recipe; the user's ``callbacks`` follow."""
        return []

    @property
    def _head(self):
        """The trained torch head."""
        return self.net_.module_.head

    def _forward(self, X, *, method="forward", check_input=True, reduce=None):
        """The head's eval-mode outputs for X, on the CPU: a tensor or a tuple of tensors.

        ``method`` names the head's method to call (e.g. "embed"); ``check_input=False`` takes
        X already validated by :meth:`_validated_input`; ``reduce`` is applied to each batch's
        outputs (see :meth:`_forward_batches`). Each batch's outputs are copied into result
        tensors allocated once, so that nothing of a batch outlives it.
        """
        results = []

        def write(outputs, start, n_samples):
            parts = outputs if isinstance(outputs, tuple) else (outputs,)
            if not results:
                results.extend(part.new_empty((n_samples, *part.shape[1:])) for part in parts)
            for result, part in zip(results, parts, strict=True):
                result[start : start + len(part)] = part

        tuples = self._run_batches(X, method, check_input, reduce, write)
        return tuple(results) if tuples else results[0]

    def _forward_batches(self, X, *, method="forward", check_input=True, reduce=None):
        """The head's eval-mode outputs batch by batch, a list, for outputs of ragged shape.

        ``reduce`` maps each batch's outputs to what is kept of them (e.g. their arg-max), so
        that the full outputs of all of X never sit in memory together.
        """
        batches = []
        self._run_batches(X, method, check_input, reduce, lambda part, *_: batches.append(part))
        return batches

    def _embed(self, X, *, check_input=True):
        """The head's ``embed`` of X, one row per sample, as the float32 array ``embed`` gives."""
        return self._forward(X, method="embed", check_input=check_input).numpy()

    def _run_batches(self, X, method, check_input, reduce, consume):
        """Run the head's ``method`` in eval mode on X batch by batch; whether it gives tuples.

        ``consume(outputs, start, n_samples)`` gets each batch's outputs (reduced, on the CPU),
        the position of the batch's first sample and the number of samples in X.
        """
        if check_input:
            X = self._validated_input(X)
        net, network = self.net_, self.net_.module_
        device = net.accelerator.device if isinstance(net, AcceleratedNet) else net.device
        dataset = self._torch_dataset(X)
        # Every process predicts all of X: NeuralNet's own iterator, not one the accelerator
        # would shard between processes.
        batches = NeuralNet.get_iterator(net, dataset, training=False)
        network.eval()
        reduce = reduce or (lambda outputs: outputs)
        start = 0
        with torch.inference_mode():
            for batch in batches:
                inputs = to_device(unpack_data(batch)[0], device)
                outputs = reduce(to_cpu(network.run(method, inputs)))
                consume(outputs, start, len(dataset))
                start += len(outputs[0] if isinstance(outputs, tuple) else outputs)
        return isinstance(outputs, tuple)

    def _validated_input(self, X):
        """X validated for prediction by a fitted estimator."""
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    def _train(self, X, y, sample_weight=None, validation=None):
        """Fit the net on validated ``X`` and the encoded ``y``; set ``net_``, ``history_``.

        ``validation`` is a validated ``(X_val, y_val)`` pair, or None.
        """
        device = resolve_device(self.device)
        seed = draw_seed(self.random_state)
        signature = self._network_signature()
        previous = self._net_to_continue(signature)
        # A failed fit must not leave an earlier net looking like the fitted model.
        self.__dict__.pop("net_", None)
        data = self._torch_dataset(X, y)
        if sample_weight is not None:
            data = WeightedDataset(data, sample_weight)
        valid_data = None if validation is None else self._torch_dataset(*validation)
        with seeded(seed):
            net = self._make_net(device, seed, valid_data).initialize()
            if previous is not None:
                unwrap_module(net.module_).load_state_dict(
                    unwrap_module(previous.module_).state_dict()
                )
                net.criterion_.load_state_dict(previous.criterion_.state_dict())
                net.history_ = previous.history_
            epochs_before = len(net.history)
            epochs = net.max_epochs
            checkpoint = _training_checkpoint(net)
            if checkpoint is not None:
                done = checkpoint.prepare(self._fit_fingerprint(y), resume=previous is None)
                epochs = 0 if done is None else max(epochs - done, 0)
            net.partial_fit(data, y, epochs=epochs)
        # The fitted net keeps no reference to the validation data: pickles stay the model's size.
        if valid_data is not None:
            net.train_split = None
        if checkpoint is not None:
            epochs_before = checkpoint.first_epoch_
        if interrupted(net, len(net.history) - epochs_before):
            net.history.record("interrupted", True)
        self.net_ = net
        self._trained_signature = signature
        self.history_ = net.history
        self.n_iter_ = sum("train_loss" in row for row in net.history)

    def _network_signature(self):
        """What the shape of the network depends on: data sizes and ``_network_params``."""
        return {
            "the number of features": self.n_features_in_,
            "the classes": tuple(getattr(self, "classes_", ())),
            "the backbone": self._stem,
            **{name: getattr(self, name) for name in self._network_params},
        }

    def _net_to_continue(self, signature):
        """The fitted net a warm start goes on training, or None (with a warning if changed)."""
        if not (self.warm_start and hasattr(self, "net_")):
            return None
        changed = [
            name for name, value in signature.items() if self._trained_signature[name] != value
        ]
        if changed:
            warn(
                f"warm_start=True, but {', '.join(changed)} changed since the last fit, which "
                "changes the shape of the network; training a fresh network.",
                WarmStartWarning,
            )
            return None
        return self.net_

    def _fit_fingerprint(self, y):
        """What the fit that wrote a checkpoint must share with this one for it to resume."""
        params = self.get_params(deep=False)
        return {
            "the estimator": type(self).__qualname__,
            **{name: joblib.hash(params[name]) for name in params.keys() - _RUN_PARAMS},
            **{name: joblib.hash(value) for name, value in self._network_signature().items()},
            "the targets": joblib.hash(y),
        }

    def _torch_dataset(self, X, y=None):
        """The torch Dataset of ``(inputs, target)`` pairs the net trains, validates or
        predicts on (targets are placeholders without ``y``)."""
        dataset = self._dataset(X, y)
        if isinstance(dataset, torch.utils.data.Dataset):
            return dataset
        if isinstance(dataset, BatchSource):
            return SourceDataset(dataset, y)
        return ArrayDataset(dataset, y)

    def _make_net(self, device, seed, valid_data=None):
        """The skorch net of a fit; ``valid_data`` is a fixed validation Dataset, or None."""
        callbacks = [("training_health", TrainingHealth()), ("epoch_hooks", EpochHooks())]
        train_split = None
        if valid_data is not None:
            train_split = predefined_split(valid_data)
        elif self.validation_fraction is not None:
            train_split = HoldoutSplit(
                self.validation_fraction, stratify=self._stratify_holdout, random_state=seed
            )
        if train_split is not None:
            callbacks.append(
                (
                    "early_stopping",
                    BestWeightsStopping(
                        patience=self.n_iter_no_change, load_best=True, sink=_silent
                    ),
                )
            )
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks.extend(self._training_callbacks())
        # A checkpoint restores the training state when training begins, so it comes after
        # every callback that resets its own state then.
        callbacks.extend(
            sorted(
                self.callbacks or [],
                key=lambda entry: isinstance(_callback_object(entry), TrainingCheckpoint),
            )
        )
        collate = {}
        if self._input_kind == "sequences":
            collate = {
                "iterator_train__collate_fn": crop_padding_collate,
                "iterator_valid__collate_fn": crop_padding_collate,
            }
        optimizer_params = {"optimizer__weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            optimizer_params["optimizer__momentum"] = 0.9
        stem = None if self._stem is None else self._stem.build()
        return self._net_class()(
            module=Network(self._build_module(self.n_features_in_), stem),
            criterion=self._build_criterion(),
            optimizer=OPTIMIZERS[self.optimizer],
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_valid__batch_size=self._evaluation_batch_size(),
            dataset=ArrayDataset,
            iterator_train__shuffle=True,
            train_split=train_split,
            callbacks=callbacks,
            verbose=int(self.verbose),
            **self._placement(device),
            **optimizer_params,
            **collate,
            backbone_lr=None if self._stem is None else self._stem.learning_rate,
        )

    def _evaluation_batch_size(self):
        """Batch size of prediction and validation: feature vectors go in large batches.

        Fewer, larger matrix products are faster than ``batch_size`` ones (training batches
        are small for the optimisation's sake, not the hardware's); a batch holds at most
        ``_EVALUATION_VALUES`` input values. Images, maps and sequences keep ``batch_size``.
        """
        if self._input_kind != "features" or self._stem is not None:
            return self.batch_size
        return max(self.batch_size, min(_EVALUATION_VALUES // self.n_features_in_, 8192))

    def _net_class(self):
        return TrainingNet if self.accelerator is None else AcceleratedNet

    def _placement(self, device):
        """Where and how batches go: our batch loaders on ``device``, or the accelerator's way.

        The accelerator shards and places the batches itself, which needs loaders of single
        samples (it re-batches them per process); ``device`` is then unused.
        """
        if self.accelerator is None:
            return {"device": device, "iterator_train": BatchLoader, "iterator_valid": BatchLoader}
        placement = {
            "device": None,
            "accelerator": self.accelerator,
            # skorch hands a non-default sink every epoch table, whatever verbose says.
            "callbacks__print_log__sink": self.accelerator.print if self.verbose else _silent,
        }
        if self.accelerator.num_processes > 1:
            placement["history"] = _distributed_history(self.accelerator)
        return placement

    def save_params(
        self,
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        use_safetensors=False,
    ):
        """Save the fitted network's learned state, with skorch's ``NeuralNet.save_params``.

        Writes state dicts (and the history as JSON), not the estimator: :meth:`load_params`
        reads them into an estimator with the same parameters fitted on data of the same shape
        and classes. To save the whole estimator, pickle it (``joblib.dump``).

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : str, path or file-like, default=None
            Where to write the network's parameters and buffers, the optimizer's state, the
            loss's state and the training history; None skips that part.

        use_safetensors : bool, default=False
            Write the parameters and the loss's state in the safetensors format (no optimizer
            state then, as in skorch).
        """
        check_is_fitted(self)
        self.net_.save_params(
            f_params=f_params,
            f_optimizer=f_optimizer,
            f_criterion=f_criterion,
            f_history=f_history,
            use_safetensors=use_safetensors,
        )

    def load_params(
        self,
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        use_safetensors=False,
    ):
        """Load state written by :meth:`save_params`; the fitted attributes follow it.

        Files are read with ``torch.load(weights_only=True)`` (never unpickled) onto the
        device this estimator's network is on, so a network trained on a GPU loads on a
        CPU-only machine.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : str, path or file-like, default=None
            The files :meth:`save_params` wrote; None keeps that part as it is.

        use_safetensors : bool, default=False
            Whether the files are in the safetensors format.

        Returns
        -------
        self : object
            The estimator, predicting as the one that saved the files.
        """
        check_is_fitted(self)
        self.net_.load_params(
            f_params=f_params,
            f_optimizer=f_optimizer,
            f_criterion=f_criterion,
            f_history=f_history,
            use_safetensors=use_safetensors,
        )
        self.history_ = self.net_.history
        self.n_iter_ = sum("train_loss" in row for row in self.history_)
        self._read_fitted(self._head)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")


class ScoreClassifierMixin(ClassifierMixin):
    """A classifier whose head scores every class: the class with the highest score wins.

    The head's eval-mode output is one score per class and sample (AllNCClassifier's logits,
    DynamicPrototypeClassifier's cosines to the prototypes assigned to the classes), columns in
    the order of ``classes_``. Probabilities are the softmax of the scores times
    ``_score_scale`` (1 unless the estimator sets it).
    """

    _score_scale = 1.0

    def decision_function(self, X):
        """Score of every class: the head's output for each sample.

        AllNCClassifier's logits, DynamicPrototypeClassifier's cosines in [-1, 1] between the
        sample's embedding and each class's assigned prototype.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            Scores, columns in the order of ``classes_``. For two classes, the score of the
            second class minus that of the first (positive means ``classes_[1]``).
        """
        scores = self._class_scores(X)
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict_proba(self, X):
        """Class probabilities: the softmax of the class scores.

        AllNCClassifier's softmax of the logits, DynamicPrototypeClassifier's
        ``softmax(logit_scale * cosines)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        return softmax(self._score_scale * self._class_scores(X), axis=1)

    def predict(self, X):
        """Class with the highest score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        codes = self._forward(X, reduce=class_codes).numpy()
        return self.classes_[codes]

    def _class_scores(self, X):
        return to_numpy(self._forward(X))


def attach_stem(estimator, stem):
    """Put ``stem`` in front of the estimator's head for its fits; return the estimator.

    The one entry point of a :class:`~ncestimators._model.Stem` (``FineTune`` uses it): the
    estimator's fits then read X with the stem and train its module with the head.
    """
    if not isinstance(estimator, TorchEstimatorBase):
        raise TypeError(f"A stem goes in front of an ncestimators estimator, not {estimator!r}.")
    if not isinstance(stem, Stem):
        raise TypeError(f"{stem!r} is not a Stem: it needs validate, build and learning_rate.")
    estimator._stem = stem
    return estimator


def input_kind(estimator):
    """What the estimator's head reads: "features", "sequences" or "positions"."""
    return estimator._input_kind


def _training_checkpoint(net):
    """The net's :class:`~ncestimators.callbacks.TrainingCheckpoint`, or None."""
    checkpoints = [cb for _, cb in net.callbacks_ if isinstance(cb, TrainingCheckpoint)]
    if len(checkpoints) > 1:
        raise ValueError(
            f"callbacks hold {len(checkpoints)} TrainingCheckpoints; a fit resumes from one, "
            "so pass one."
        )
    return checkpoints[0] if checkpoints else None


def _callback_object(entry):
    """The callback of a ``callbacks`` entry: a callback, or a ``(name, callback)`` pair."""
    return entry[1] if isinstance(entry, tuple) else entry


def _distributed_history(accelerator):
    """skorch's history shared by the processes, so that they agree on when to stop early.

    Every fit gets keys of its own in the process's one store: the processes run the same fits
    in the same order, so the n-th fit of each process shares the prefix of the n-th fit.
    """
    from skorch.history import DistributedHistory
    from torch.distributed import PrefixStore

    # The launcher (torchrun, accelerate launch) sets the rendezvous address; the store takes
    # the next port.
    store = _history_store(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]) + 1,
        accelerator.num_processes,
        accelerator.is_main_process,
    )
    return DistributedHistory(
        store=PrefixStore(f"ncestimators-fit-{next(_FIT_NUMBERS)}", store),
        rank=accelerator.process_index,
        world_size=accelerator.num_processes,
    )


_FIT_NUMBERS = itertools.count()


@functools.cache
def _history_store(address, port, world_size, is_master):
    """The process's one key-value store for shared histories (a port can be bound once)."""
    from torch.distributed import TCPStore

    return TCPStore(address, port, world_size=world_size, is_master=is_master)


def _silent(*args, **kwargs):
    """Sink for skorch messages that are not wanted: early stopping's, silenced epoch tables."""


def check_hidden_dims(hidden_dims):
    """Raise a ValueError unless ``hidden_dims`` holds positive integers."""
    if not all(isinstance(width, Integral) and width >= 1 for width in hidden_dims):
        raise ValueError(
            f"hidden_dims must contain positive integers, got {hidden_dims!r}; e.g. (256,) for "
            "one hidden layer or () for none."
        )
