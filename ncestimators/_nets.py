"""The skorch nets and the callbacks of the training recipe."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor

from ._model import EpochSteps, unwrap_module
from .exceptions import warn

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
            warn(
                f"The training loss exploded: {loss:.3g} in epoch {epoch}, against "
                f"{self.initial_loss_:.3g} on the first batch. The model is likely garbage; "
                f"lower lr (now {net.lr}) or standardise the features.",
                ConvergenceWarning,
            )


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

    Targets of a :class:`~ncestimators._data.WeightedDataset` arrive as
    ``{"target": ..., "sample_weight": ...}`` and are passed on as
    ``criterion(outputs, target, sample_weight=weights)``; other targets as
    ``criterion(outputs, target)``. ``shuffle_generator_`` is the generator that shuffles the
    training batches when it is not torch's global one (None), for checkpoints to save.
    ``backbone_lr`` is the learning rate of the parameters that the module returns as its
    backbone's (:meth:`~ncestimators._model.Network.backbone_parameters`); None trains them
    with ``lr``.
    """

    shuffle_generator_ = None

    def __init__(self, *args, backbone_lr=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.backbone_lr = backbone_lr

    def get_params_for_optimizer(self, prefix, named_parameters):
        """skorch's optimizer arguments; with ``backbone_lr``, the parameters that the network
        returns as its backbone's form a parameter group with that learning rate."""
        named_parameters = list(named_parameters)
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if self.backbone_lr is None:
            return args, kwargs
        backbone = {
            id(parameter) for parameter in unwrap_module(self.module_).backbone_parameters()
        }
        groups = [
            {
                "params": [p for _, p in named_parameters if id(p) in backbone],
                "lr": self.backbone_lr,
            },
            {"params": [p for _, p in named_parameters if id(p) not in backbone]},
        ]
        return ([group for group in groups if group["params"]],), kwargs

    def _set_training(self, training=True):
        """skorch's, leaving alone a module whose every part is in that mode already.

        skorch sets the mode before every batch, and ``Module.train`` sets the flag of every
        submodule through ``Module.__setattr__``: about 2 % of a small head's fit. Checking
        every submodule, not a flag of our own, still catches a callback's ``eval()``.
        """
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and any(
                part.training != training for part in module.modules()
            ):
                module.train(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not isinstance(y_true, dict):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, y_true["target"], sample_weight=y_true["sample_weight"])


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
