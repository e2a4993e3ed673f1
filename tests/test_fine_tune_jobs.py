"""FineTune in real jobs: two processes through accelerate, warm starts, a fixed validation set."""

import copy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ncestimators import CeCoSegmenter, CoFInAIRegressor, DynamicPrototypeClassifier
from ncestimators.adapters import FineTune
from ncestimators.exceptions import WarmStartWarning

pytest.importorskip("torchvision")

WORKER = Path(__file__).with_name("_fine_tune_worker.py")


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of two torchrun processes fine-tuned (see _fine_tune_worker.py)."""
    pytest.importorskip("accelerate")
    output = tmp_path_factory.mktemp("ranks")
    # --standalone picks a free rendezvous port; the shared history takes the next one.
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(WORKER), str(output),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [dict(np.load(output / f"rank{rank}.npz")) for rank in (0, 1)]


@pytest.mark.parametrize("name", ["segmenter", "classifier"])
def test_two_processes_fine_tune_a_cut_backbone_and_agree(ranks, name):
    assert all(int(rank["world_size"]) == 2 for rank in ranks)
    for rank in ranks:
        assert int(rank[f"{name}_n_iter"]) == 2
        assert np.isfinite(rank[f"{name}_train_loss"]).all()
    # DistributedDataParallel keeps the replicas equal, the backbone's included.
    np.testing.assert_array_equal(ranks[0][f"{name}_weights"], ranks[1][f"{name}_weights"])
    np.testing.assert_array_equal(ranks[0]["predictions"], ranks[1]["predictions"])


# --- warm start: only backbone, weights and layer shape the network ------------------------------


def _image_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2)
    )


def _clip_net():
    return nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1),
                         nn.Flatten(), nn.Linear(8, 8))  # fmt: skip


@pytest.fixture(scope="module")
def images():
    """16 RGB images of 16 x 16 pixels in 2 classes: a bright square or none."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 120, (16, 16, 16, 3), dtype=np.uint8)
    y = np.arange(16) % 2
    X[y == 1, 2:10, 2:10] = 255
    return X, y


@pytest.fixture(scope="module")
def videos():
    """Four videos of 4 to 16 frames of 8 x 8 pixels, and their scores."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8) for n in (8, 12, 4, 16)]
    return frames, np.arange(4.0)


class _Jitter(nn.Module):
    """An augmentation with a tensor of its own: brightness jitter of a fixed strength."""

    def __init__(self):
        super().__init__()
        self.register_buffer("strength", torch.tensor(0.05))

    def forward(self, images):
        return images + self.strength * torch.rand_like(images[:, :1])


# What each FineTune parameter but the estimator is changed to before a warm refit.
NETWORK_CHANGES = ["backbone", "weights", "layer"]
OTHER_CHANGES = {
    "pool": "max", "backbone_lr": 1e-4, "freeze": ["0"], "augment": _Jitter(), "clip_len": 2,
    "stride": 2,
}  # fmt: skip


def test_the_warm_start_sweep_changes_every_parameter():
    parameters = set(FineTune(DynamicPrototypeClassifier()).get_params(deep=False))
    assert {*NETWORK_CHANGES, *OTHER_CHANGES} == parameters - {"estimator"}


def _warm_fine_tune(name, images, videos):
    """A warm-starting FineTune fitted once, its training data, and its changed parameter."""
    if name in ("clip_len", "stride"):
        head = CoFInAIRegressor(d_procedure=8, d_score=4)
        (X, y), model = videos, FineTune(head, backbone=_clip_net(), clip_len=4)
    else:
        (X, y), model = images, FineTune(DynamicPrototypeClassifier(), backbone=_image_net())
    model.estimator.set_params(max_epochs=1, lr=0.01, warm_start=True, random_state=0)
    return model.fit(X, y), X, y


@pytest.mark.parametrize("name", NETWORK_CHANGES)
def test_a_warm_refit_with_another_network_warns_and_starts_afresh(images, videos, tmp_path, name):
    model, X, y = _warm_fine_tune(name, images, videos)
    torch.manual_seed(1)
    torch.save(_image_net().state_dict(), tmp_path / "start.pt")
    changed = {"backbone": _image_net(), "weights": tmp_path / "start.pt", "layer": "3"}[name]
    model.set_params(**{name: changed})
    with pytest.warns(WarmStartWarning, match="but the backbone changed"):
        model.fit(X, y)
    assert len(model.estimator_.history_) == 1


@pytest.mark.parametrize("name", list(OTHER_CHANGES))
def test_a_warm_refit_goes_on_training_with_the_new_setting(images, videos, name):
    model, X, y = _warm_fine_tune(name, images, videos)
    before = copy.deepcopy(model.estimator_.net_.module_.stem.state_dict())
    model.set_params(**{name: OTHER_CHANGES[name]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", WarmStartWarning)
        model.fit(X, y)
    assert len(model.estimator_.history_) == 2
    after = model.estimator_.net_.module_.stem.state_dict()
    if name == "freeze":  # the newly frozen layer stays as it was, the next one trains
        assert torch.equal(after["backbone.0.weight"], before["backbone.0.weight"])
        assert not torch.equal(after["backbone.3.weight"], before["backbone.3.weight"])
    if name == "backbone_lr":
        groups = model.estimator_.net_.optimizer_.param_groups
        assert sorted(group["lr"] for group in groups) == [1e-4, 0.01]


# --- fit arguments: a fixed validation set of raw images, sample weights -------------------------


@pytest.mark.parametrize("head", [DynamicPrototypeClassifier, CeCoSegmenter])
def test_a_fixed_validation_set_of_raw_images_gives_the_validation_loss(images, head):
    X, y = images
    if head is CeCoSegmenter:
        y = (X.min(axis=-1) == 255).astype(int)  # pixel labels of the bright square
    # Channels first, unlike X: read through the stem like the training images.
    X_val = np.moveaxis(X[:8], -1, 1)
    backbone = _image_net()  # copied by each fit: both start from the same weights

    def fit(y_val):
        estimator = head(max_epochs=3, batch_size=8, lr=0.01, random_state=0)
        return FineTune(estimator, backbone=backbone).fit(X, y, X_val=X_val, y_val=y_val)

    right, wrong = fit(y[:8]), fit(1 - y[:8])
    history, other = right.estimator_.history_, wrong.estimator_.history_
    assert np.isfinite(history[:, "valid_loss"]).all() and len(history) == 3
    # The same training; the losses on the validation images follow their labels.
    assert history[:, "train_loss"] == other[:, "train_loss"]
    assert all(np.not_equal(history[:, "valid_loss"], other[:, "valid_loss"]))


def test_sample_weights_reach_the_estimators_loss(images):
    X, y = images
    backbone = _image_net()

    def fit(sample_weight):
        estimator = DynamicPrototypeClassifier(max_epochs=2, lr=0.01, random_state=0)
        return FineTune(estimator, backbone=backbone).fit(X, y, sample_weight)

    plain = fit(None).predict_proba(X)
    np.testing.assert_allclose(fit(np.ones(len(X))).predict_proba(X), plain, rtol=1e-5)
    assert not np.allclose(fit(np.where(y == 1, 5.0, 0.2)).predict_proba(X), plain)
