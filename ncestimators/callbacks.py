"""Callbacks for long runs: a checkpoint of the whole training state, to resume a killed fit."""

# SPDX-License-Identifier: BSD-3-Clause

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.history import History

from ._model import unwrap_module
from ._nets import interrupted

__all__ = ["TrainingCheckpoint"]

_FILE_NAME = "training_state.pt"
_FORMAT = 1


class TrainingCheckpoint(Callback):
    """Write the whole training state after every epoch; a new fit resumes from it.

    Pass it in an estimator's ``callbacks``. After every ``every`` epochs it writes, to one
    file in ``dirname``, everything the next epoch depends on: the network's and the loss's
    state, the optimizer's (moments, learning rates), the history, the random generators,
    and the state of every callback (early stopping's patience count and best weights, a
    learning-rate schedule's position, the best scores). The file is replaced atomically: a
    process killed while writing leaves the previous checkpoint readable.

    A fit of an estimator whose ``callbacks`` hold a checkpoint of a fit with the same
    parameters and data resumes it (in a new process and a new estimator as well): it runs the
    epochs still to go up to ``max_epochs``, and ends with the weights and history of a fit that
    was never interrupted (bit for bit on a CPU with a fixed number of threads). The checkpoint
    of a fit that ran all its epochs gives the fitted model without training, or trains on if
    ``max_epochs`` is now larger; that of a fit that early stopping ended gives the fitted
    model. A checkpoint of another fit (other parameters, data or estimator) is a ValueError:
    nothing is silently overwritten. A warm start (``warm_start=True`` with a fitted network)
    continues the network in memory and writes over the checkpoint.

    Parameters
    ----------
    dirname : str or path-like
        Directory of the checkpoint, created if needed; one fit per directory.

    every : int, default=1
        Epochs between writes; the end of a fit is always written.

    Attributes
    ----------
    first_epoch_ : int
        The number of epochs in the history before the checkpointed fit began (0, or the
        epochs of earlier fits that a warm start continued).

    resumed_from_ : int or None
        The epoch count of the history when the last ``fit`` resumed from the checkpoint,
        None if it did not.

    Notes
    -----
    Files are read with ``torch.load(weights_only=True)``. Parameters that do not change what
    is trained (``max_epochs``, ``verbose``, ``device``, ``callbacks``, ``accelerator``,
    ``warm_start``) may differ between the interrupted fit and the resuming one: a larger
    ``max_epochs`` trains on. Attributes of callbacks that are resources (a writer, a run, a
    progress bar) are not saved; their callback makes them anew. Under several processes,
    process 0 writes and every process reads.

    Examples
    --------
    >>> import tempfile
    >>> from ncestimators import DynamicPrototypeClassifier
    >>> from ncestimators.callbacks import TrainingCheckpoint
    >>> from ncestimators.datasets import make_superclass_features
    >>> X, y = make_superclass_features(n_samples=100, random_state=0)
    >>> directory = tempfile.mkdtemp()
    >>> params = dict(max_epochs=4, random_state=0)
    >>> first = DynamicPrototypeClassifier(
    ...     **params, callbacks=[TrainingCheckpoint(directory)]).fit(X, y)
    >>> again = DynamicPrototypeClassifier(
    ...     **params, callbacks=[TrainingCheckpoint(directory)]).fit(X, y)
    >>> again.n_iter_, (again.predict(X) == first.predict(X)).all()
    (4, np.True_)
    """

    def __init__(self, dirname, every=1):
        self.dirname = dirname
        self.every = every

    @property
    def path(self):
        """The checkpoint file."""
        return Path(self.dirname) / _FILE_NAME

    def prepare(self, fingerprint, *, resume):
        """Read the checkpoint a fit with ``fingerprint`` resumes; the epochs it already ran.

        Called by the estimator before training. With ``resume`` (no network to continue
        in memory) an existing checkpoint of the same fit is kept for :meth:`on_train_begin`
        to restore, and the number of epochs it ran is returned, None if early stopping ended
        it; 0 when there is nothing to resume.
        """
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be a positive integer, got {self.every!r}.")
        self._fingerprint = fingerprint
        self._state = None
        self.resumed_from_ = None
        if not (resume and self.path.exists()):
            return 0
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        if state.get("format") != _FORMAT or not isinstance(state.get("fingerprint"), dict):
            raise ValueError(
                f"{self.path} is not a checkpoint written by TrainingCheckpoint; pass another "
                "dirname."
            )
        changed = sorted(
            key
            for key in state["fingerprint"].keys() | fingerprint.keys()
            if state["fingerprint"].get(key) != fingerprint.get(key)
        )
        if changed:
            raise ValueError(
                f"The checkpoint in {str(self.dirname)!r} was written by another fit: "
                f"{', '.join(changed)} differ. Pass the parameters and data of that fit to "
                "resume it, or another dirname (or delete the checkpoint) to start afresh."
            )
        self._state = state
        return None if state["stopped_early"] else state["epochs_done"]

    def on_train_begin(self, net, **kwargs):
        # Callbacks are notified in order and this one comes last (see TorchEstimatorBase),
        # so the state restored here is not reset by another callback's on_train_begin.
        self.first_epoch_ = len(net.history)
        self._rng_state = None
        if self._state is None:
            return
        state, self._state = self._state, None
        self.first_epoch_ = state["first_epoch"]
        self.resumed_from_ = state["first_epoch"] + state["epochs_done"]
        _restore(net, state, skip=self)
        self._rng_state = state["rng"][_process_index()]

    def on_epoch_begin(self, net, **kwargs):
        # The random generators are restored once the loaders are made (accelerate's draws a
        # seed from torch's generator), right before the first resumed epoch draws from them.
        if self._rng_state is not None:
            _restore_rng(net, self._rng_state)
            self._rng_state = None

    def on_epoch_end(self, net, **kwargs):
        epochs_done = len(net.history) - self.first_epoch_
        if epochs_done % self.every == 0:
            self._write(net, epochs_done, finished=False, stopped_early=False)

    def on_train_end(self, net, **kwargs):
        epochs_done = len(net.history) - self.first_epoch_
        # An interrupted fit keeps its last epoch's checkpoint: early stopping's on_train_end
        # has put the best epoch's weights in the network, which is not where training was.
        if not interrupted(net, epochs_done):
            stopped_early = epochs_done < net.max_epochs or "train_loss" not in net.history[-1]
            self._write(net, epochs_done, finished=True, stopped_early=stopped_early)

    def _write(self, net, epochs_done, *, finished, stopped_early):
        rng = _rng_states_of_every_process(net)
        if _is_main_process():
            state = {
                "format": _FORMAT,
                "fingerprint": self._fingerprint,
                "first_epoch": self.first_epoch_,
                "epochs_done": epochs_done,
                "finished": finished,
                "stopped_early": stopped_early,
                **_training_state(net, skip=self),
                "rng": rng,
            }
            Path(self.dirname).mkdir(parents=True, exist_ok=True)
            _save_atomically(state, self.path)
        # No process reads the checkpoint (in a next fit) before it is complete.
        _wait_for_every_process()


def _save_atomically(obj, path):
    """``torch.save`` to ``path`` through a temporary file that replaces it when complete.

    A process killed while writing leaves the previous file whole (and at most a temporary
    file beside it); an exception removes the temporary file.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _training_state(net, *, skip):
    """Everything the next epoch of ``net`` depends on, as tensors and plain Python values."""
    return {
        "modules": {name: _module(net, name).state_dict() for name in net._modules},
        "criteria": {name: _module(net, name).state_dict() for name in net._criteria},
        "optimizers": {name: getattr(net, name + "_").state_dict() for name in net._optimizers},
        "history": json.dumps(net.history.to_list(), default=_plain),
        "callbacks": {
            name: _callback_state(callback)
            for name, callback in net.callbacks_
            if callback is not skip
        },
    }


def _restore(net, state, *, skip):
    for name, module_state in state["modules"].items():
        _module(net, name).load_state_dict(module_state)
    for name, criterion_state in state["criteria"].items():
        _module(net, name).load_state_dict(criterion_state)
    for name, optimizer_state in state["optimizers"].items():
        getattr(net, name + "_").load_state_dict(optimizer_state)
    _replace_history(net, json.loads(state["history"]))
    callbacks = dict(net.callbacks_)
    for name, callback_state in state["callbacks"].items():
        if name in callbacks and callbacks[name] is not skip:
            _load_callback_state(callbacks[name], callback_state)


def _restore_rng(net, rng):
    torch.set_rng_state(rng["cpu"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    if rng["shuffle"] is not None:
        net.shuffle_generator_.set_state(rng["shuffle"])


def _module(net, name):
    return unwrap_module(getattr(net, name + "_"))


def _replace_history(net, rows):
    history = net.history
    # skorch's DistributedHistory keeps the rows in a History of its own.
    target = getattr(history, "_history", history)
    target.clear()
    target.extend(History(rows))


def _callback_state(callback):
    """A callback's fitted attributes (``name_``) that are state, not resources.

    Values are kept when they are plain data (numbers, strings, tensors and containers of
    them) and as their ``state_dict()`` when they have one (a learning-rate scheduler);
    anything else (a writer, a run, a progress bar) is a resource the callback makes anew.
    """
    values, state_dicts = {}, {}
    for attribute, value in vars(callback).items():
        if not attribute.endswith("_") or attribute.startswith("_"):
            continue
        if hasattr(value, "load_state_dict") and not isinstance(value, type):
            state_dicts[attribute] = value.state_dict()
        elif _is_plain(value):
            values[attribute] = _plain_tree(value)
    return {"values": values, "state_dicts": state_dicts}


def _load_callback_state(callback, state):
    for attribute, value in state["values"].items():
        setattr(callback, attribute, value)
    for attribute, value in state["state_dicts"].items():
        getattr(callback, attribute).load_state_dict(value)


def _is_plain(value):
    if value is None or isinstance(value, bool | int | float | str | np.generic | torch.Tensor):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    return False


def _plain_tree(value):
    """``value`` with NumPy scalars as Python ones (what ``weights_only`` loading reads)."""
    if isinstance(value, dict):
        return {k: _plain_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain_tree(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def _plain(value):
    """JSON encoding of the NumPy values a history may hold."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"A history value of type {type(value).__name__} cannot be saved.")


def _rng_states_of_every_process(net):
    """The random generators of each process, a list indexed by process (collective)."""
    shuffle = net.shuffle_generator_
    state = {
        "cpu": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "shuffle": None if shuffle is None else shuffle.get_state(),
    }
    if not _distributed():
        return [state]
    states = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(states, state)
    return states


def _process_index():
    return torch.distributed.get_rank() if _distributed() else 0


def _distributed():
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _is_main_process():
    return not _distributed() or torch.distributed.get_rank() == 0


def _wait_for_every_process():
    if _distributed():
        torch.distributed.barrier()
