"""The shared estimator base: seeding, devices, held-out split, warm start, sequence input."""

import re
import types
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks
from skorch.callbacks import Callback
from torch import nn

from ncestimators import AllNCClassifier
from ncestimators._base import TorchEstimatorBase
from ncestimators._data import HoldoutSplit, crop_padding_collate
from ncestimators._model import split_padding
from ncestimators._nets import GradientClipping
from ncestimators._runtime import draw_seed, resolve_device, seeded
from ncestimators.exceptions import DeviceWarning, WarmStartWarning

# A new estimator is small: this one is the documentation of the template's hooks. The base
# validates X (2-D features by default), encodes y as class codes (the default for classifiers),
# trains the head built by _build_module with the loss of _build_criterion, and runs every
# prediction through _forward. Nothing else is needed to pass scikit-learn's checks.


class SoftmaxRegression(ClassifierMixin, TorchEstimatorBase):
    """The smallest estimator on the base: multinomial logistic regression."""

    _parameter_constraints = {**TorchEstimatorBase._parameter_constraints}
    _stratify_holdout = True

    def __init__(
        self,
        *,
        max_epochs=5,
        batch_size=32,
        lr=0.05,
        optimizer="adam",
        weight_decay=0.0,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        validation_fraction=None,
        n_iter_no_change=10,
        warm_start=False,
        accelerator=None,
    ):
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.accelerator = accelerator

    def predict_proba(self, X):
        return torch.softmax(self._forward(X), dim=1).numpy()

    def predict(self, X):
        codes = self.predict_proba(X).argmax(axis=1)
        return self.classes_[codes]

    def _build_module(self, n_features):
        return nn.Linear(n_features, len(self.classes_))

    def _build_criterion(self):
        return WeightedCrossEntropy()


class WeightedCrossEntropy(nn.Module):
    """The loss contract: ``(outputs, target, sample_weight=None)``, a weighted mean."""

    def forward(self, outputs, target, sample_weight=None):
        losses = nn.functional.cross_entropy(outputs, target, reduction="none")
        if sample_weight is None:
            return losses.mean()
        return (sample_weight * losses).sum() / sample_weight.sum().clamp(min=1e-12)


@parametrize_with_checks(
    [SoftmaxRegression(random_state=0)],
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": "mini-batch SGD: a weight of 2 and a "
        "repeated sample give other batches (test_integer_weights_act_like_repeated_samples)",
    },
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_param_validation():
    check_param_validation("SoftmaxRegression", SoftmaxRegression())


def _blobs(n_samples=120, random_state=0):
    rng = np.random.default_rng(random_state)
    y = rng.integers(3, size=n_samples)
    X = rng.standard_normal((n_samples, 4)) + 3 * np.eye(3, 4)[y]
    return X, y


def test_fit_and_predict_leave_global_random_states_untouched():
    X, y = _blobs()
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    SoftmaxRegression(random_state=None).fit(X, y)
    SoftmaxRegression(random_state=np.random.RandomState(3)).fit(X, y).predict_proba(X)
    assert all(
        np.array_equal(a, b) for a, b in zip(numpy_state, np.random.get_state(), strict=True)
    )
    assert torch.equal(torch_state, torch.get_rng_state())


def test_verbose_shows_the_epoch_table_and_a_progress_bar(capsys):
    X, y = _blobs()
    SoftmaxRegression(max_epochs=2, random_state=0).fit(X, y)
    silent = capsys.readouterr()
    assert silent.out == silent.err == ""
    SoftmaxRegression(max_epochs=2, verbose=1, random_state=0).fit(X, y)
    shown = capsys.readouterr()
    colour = r"(\x1b\[\d+m)?"  # skorch colours the best loss so far
    assert re.search(rf"^\s+1\s+{colour}\d+\.\d+", shown.out, re.MULTILINE)  # epoch 1, its loss
    assert "train_loss" in shown.out
    assert "it/s]" in shown.out + shown.err  # tqdm's progress bar


def test_same_random_state_gives_identical_predictions():
    X, y = _blobs()
    first = SoftmaxRegression(random_state=7).fit(X, y).predict_proba(X)
    second = SoftmaxRegression(random_state=7).fit(X, y).predict_proba(X)
    other = SoftmaxRegression(random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_draw_seed():
    assert draw_seed(5) == draw_seed(5)
    rng = np.random.RandomState(0)
    assert draw_seed(rng) != draw_seed(rng)


def test_seeded_restores_the_callers_generator():
    before = torch.get_rng_state()
    with seeded(0):
        inside = torch.rand(3)
    with seeded(0):
        np.testing.assert_array_equal(inside, torch.rand(3))
    assert torch.equal(before, torch.get_rng_state())


def test_explicit_cuda_without_gpu_warns_and_falls_back(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        assert resolve_device("cuda:0") == "cpu"
    assert resolve_device("auto") == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_device("cpu") == "cpu"


def test_unknown_device_is_a_value_error():
    X, y = _blobs()
    with pytest.raises(ValueError, match="not a torch device"):
        SoftmaxRegression(device="tpu-please").fit(X, y)


def test_early_stopping_uses_a_held_out_split_of_the_training_data():
    X, y = _blobs(200)
    model = SoftmaxRegression(
        max_epochs=200, validation_fraction=0.25, n_iter_no_change=3, random_state=0
    ).fit(X, y)
    batches = model.history_[0, "batches"]
    assert sum(batch.get("train_batch_size", 0) for batch in batches) == 150
    assert sum(batch.get("valid_batch_size", 0) for batch in batches) == 50
    assert model.n_iter_ < 200


@pytest.mark.parametrize("stratify", [True, False])
def test_holdout_split_sizes_and_stratification(stratify):
    y = np.repeat([0, 1, 2], [40, 40, 20])
    dataset = list(range(len(y)))
    train, valid = HoldoutSplit(0.2, stratify=stratify, random_state=0)(dataset, y)
    assert len(valid) == 20 and len(train) == 80
    assert set(train.indices).isdisjoint(valid.indices)
    if stratify:
        np.testing.assert_array_equal(np.bincount(y[valid.indices]), [8, 8, 4])


def test_holdout_split_falls_back_when_a_class_has_one_sample():
    y = np.array([0] * 30 + [1] * 9 + [2])
    train, valid = HoldoutSplit(0.25, stratify=True, random_state=0)(list(range(40)), y)
    assert len(train) + len(valid) == 40


def test_warm_start_continues_training_from_the_learned_weights():
    X, y = _blobs()
    model = SoftmaxRegression(max_epochs=3, warm_start=True, random_state=0).fit(X, y)
    weights = model._head.weight.detach().clone()
    model.set_params(lr=1e-12, optimizer="sgd").fit(X, y)  # a new optimizer, the same weights
    assert model.n_iter_ == 6
    torch.testing.assert_close(model._head.weight.detach(), weights)
    cold = SoftmaxRegression(max_epochs=3, random_state=0).fit(X, y)
    assert cold.fit(X, y).n_iter_ == 3


@pytest.mark.parametrize("change", ["classes", "features"])
def test_warm_start_trains_afresh_and_warns_when_the_data_changes_shape(change):
    X, y = _blobs()
    model = SoftmaxRegression(max_epochs=2, warm_start=True, random_state=0).fit(X, y)
    X, y = (X[y < 2], y[y < 2]) if change == "classes" else (X[:, :3], y)
    with pytest.warns(WarmStartWarning, match=f"the {change}|the number of {change}"):
        model.fit(X, y)
    assert model.n_iter_ == 2 and model._head.weight.shape == (len(model.classes_), X.shape[1])


def test_crop_padding_collate_and_split_padding():
    first = np.array([[1.0, 1.0], [2.0, 2.0], [np.nan, np.nan], [np.nan, np.nan]], np.float32)
    second = np.array(
        [[3.0, 3.0], [np.nan, np.nan], [np.nan, np.nan], [np.nan, np.nan]], np.float32
    )
    inputs, targets = crop_padding_collate((np.stack([first, second]), np.array([0, 1])))
    assert inputs.shape == (2, 2, 2)
    np.testing.assert_array_equal(targets, [0, 1])
    filled, mask = split_padding(inputs)
    np.testing.assert_array_equal(mask, [[True, True], [True, False]])
    assert not torch.isnan(filled).any() and filled[1, 1].abs().sum() == 0


def test_diverged_training_is_a_value_error_and_leaves_nothing_fitted():
    X, y = _blobs()
    model = SoftmaxRegression(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="Training diverged"):
        model.set_params(optimizer="sgd", lr=1e20).fit(X * 1e10, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_an_exploding_loss_warns_once_and_says_what_to_change():
    # The case: lr=1e6 trains AllNC to a finite loss of about 1e14 and to garbage.
    X, y = _blobs()
    with pytest.warns(ConvergenceWarning) as record:
        model = AllNCClassifier(lr=1e6, max_epochs=5, random_state=0).fit(X, y)
    exploded = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert len(exploded) == 1
    assert re.search(r"loss exploded: .* lower lr \(now 1000000.0\)", str(exploded[0].message))
    assert exploded[0].filename == __file__  # the user's line, not a skorch callback's
    assert np.isfinite(model.history_[-1, "train_loss"])


@pytest.mark.parametrize("estimator", [SoftmaxRegression, AllNCClassifier])
def test_a_healthy_fit_does_not_warn(estimator):
    X, y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator(max_epochs=5, random_state=0).fit(X, y)


class _Interrupt(Callback):
    """Raises KeyboardInterrupt, as Ctrl-C would, at the end of an epoch or within one."""

    def __init__(self, epoch, *, within=False):
        self.epoch = epoch
        self.within = within

    def on_batch_end(self, net, training=False, **kwargs):
        if self.within and training and len(net.history) == self.epoch:
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if not self.within and len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("within", [False, True])
def test_an_interrupted_fit_leaves_a_usable_model_and_says_so(within):
    X, y = _blobs()
    model = SoftmaxRegression(
        max_epochs=10, batch_size=16, callbacks=[_Interrupt(3, within=within)], random_state=0
    ).fit(X, y)
    assert model.history_[-1, "interrupted"] is True
    assert len(model.history_) == 3 and model.n_iter_ == (2 if within else 3)
    assert model.predict(X).shape == y.shape
    assert model.score(X, y) > 0.5


def test_early_stopping_and_a_full_fit_are_not_interruptions():
    X, y = _blobs()
    full = SoftmaxRegression(max_epochs=3, random_state=0).fit(X, y)
    stopped = SoftmaxRegression(
        max_epochs=200, validation_fraction=0.25, n_iter_no_change=2, random_state=0
    ).fit(X, y)
    assert stopped.n_iter_ < 200
    for model in (full, stopped):
        assert all("interrupted" not in row for row in model.history_)


def test_warm_start_honours_a_new_max_epochs():
    X, y = _blobs()
    model = SoftmaxRegression(max_epochs=2, warm_start=True, random_state=0).fit(X, y)
    model.set_params(max_epochs=3).fit(X, y)
    assert model.n_iter_ == 5


@pytest.mark.parametrize("accelerated", [False, True])
def test_gradient_clipping_scales_large_gradients_down_and_keeps_small_ones(accelerated):
    net = types.SimpleNamespace()
    if accelerated:
        accelerate = pytest.importorskip("accelerate")
        net.accelerator = accelerate.Accelerator(cpu=True)
    large, small = nn.Parameter(torch.zeros(4)), nn.Parameter(torch.zeros(2))
    large.grad, small.grad = torch.tensor([30.0, 40.0, 0.0, 0.0]), torch.tensor([0.3, 0.4])
    GradientClipping(10.0).on_grad_computed(net, named_parameters=[("large", large)])
    GradientClipping(10.0).on_grad_computed(net, named_parameters=[("small", small)])
    torch.testing.assert_close(large.grad, torch.tensor([6.0, 8.0, 0.0, 0.0]))
    torch.testing.assert_close(small.grad, torch.tensor([0.3, 0.4]))


def test_integer_weights_act_like_repeated_samples():
    # One batch holds all the data, so only the order of summation differs.
    X, y = _blobs(60)
    weights = np.random.default_rng(0).integers(1, 4, len(y))
    params = {"batch_size": 200, "max_epochs": 20, "random_state": 0}
    weighted = SoftmaxRegression(**params).fit(X, y, sample_weight=weights)
    repeated = SoftmaxRegression(**params).fit(np.repeat(X, weights, 0), np.repeat(y, weights))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-6
    )
    unweighted = SoftmaxRegression(**params).fit(X, y)
    assert np.abs(weighted.predict_proba(X) - unweighted.predict_proba(X)).max() > 0.01


def test_every_training_batch_runs_in_training_mode_after_a_callback_switches_a_part_off():
    modes = []

    class ProbesALayer(Callback):  # switches a part of the network to eval after each batch
        def on_train_begin(self, net, **kwargs):
            self.layer = next(m for m in net.module_.modules() if isinstance(m, nn.LayerNorm))
            self.layer.register_forward_pre_hook(lambda module, _: modes.append(module.training))

        def on_batch_end(self, net, **kwargs):
            self.layer.eval()

    X, y = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32), np.arange(64) % 2
    AllNCClassifier(
        hidden_dims=(8,), max_epochs=2, batch_size=16, random_state=0, callbacks=[ProbesALayer()]
    ).fit(X, y)
    # 4 training batches per epoch, each followed by the callback's eval(); no validation.
    assert len(modes) >= 8 and all(modes)
