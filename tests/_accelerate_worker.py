"""One process of the 2-process accelerate tests (launched by test_accelerate.py with torchrun).

Fits, under an ``Accelerator(cpu=True)`` (gloo on loopback), every estimator with per-epoch
steps, and saves what this rank's steps did: DL2PA's assignment history, CASE's cluster state,
AllNC's curriculum weight per epoch. The DL2PA fit has a held-out split, so that early stopping
has to agree between processes too; a checkpointed DL2PA fit is then resumed by every process.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from skorch.callbacks import Callback

from ncestimators import AllNCClassifier, ClusterFBSeparator, DynamicPrototypeClassifier
from ncestimators._model import unwrap_module
from ncestimators.callbacks import TrainingCheckpoint
from ncestimators.datasets import load_digits_lt, make_superclass_features, make_wtal_videos

DPC_PARAMS = {
    "hidden_dims": (8,), "max_epochs": 6, "batch_size": 32, "validation_fraction": 0.25,
    "n_iter_no_change": 4, "random_state": 0,
}  # fmt: skip
CASE_PARAMS = {"n_clusters": 4, "hidden_dim": 8, "max_epochs": 3, "random_state": 0}
ALLNC_PARAMS = {"hidden_dims": (16,), "max_epochs": 4, "random_state": 0}


def dpc_data():
    return make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=200, n_features=6, random_state=0
    )


def case_data():
    X, y, _ = make_wtal_videos(
        n_videos=16, n_classes=3, n_features=8, min_length=16, max_length=32, random_state=0
    )
    return X, y


def allnc_data():
    data = load_digits_lt(imbalance_ratio=10, random_state=0)
    return data.X_train / 16, data.y_train


class RecordEta(Callback):
    """Record the loss's curriculum weight after each epoch, as the loss itself holds it."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("eta", float(unwrap_module(net.criterion_).eta))


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model._head.parameters()]).numpy()


def main(output):
    accelerator = Accelerator(cpu=True)
    X, y = dpc_data()
    dpc = DynamicPrototypeClassifier(**DPC_PARAMS, accelerator=accelerator).fit(X, y)
    X_case, y_case = case_data()
    case = ClusterFBSeparator(**CASE_PARAMS, accelerator=accelerator).fit(X_case, y_case)
    X_lt, y_lt = allnc_data()
    allnc = AllNCClassifier(**ALLNC_PARAMS, callbacks=[RecordEta()], accelerator=accelerator).fit(
        X_lt, y_lt
    )
    # Validation labels training cannot fit: early stopping restores an earlier epoch's weights.
    y_noise = np.random.default_rng(0).permutation(y[:50])
    stopped = DynamicPrototypeClassifier(
        hidden_dims=(8,), max_epochs=30, n_iter_no_change=2, accelerator=accelerator,
        random_state=0,
    ).fit(X[50:], y[50:], X_val=X[:50], y_val=y_noise)  # fmt: skip
    # Process 0 writes the checkpoint; every process resumes the finished fit from it.
    checkpointed = DynamicPrototypeClassifier(
        **DPC_PARAMS, callbacks=[TrainingCheckpoint(output / "checkpoint")], accelerator=accelerator
    ).fit(X, y)
    resuming = TrainingCheckpoint(output / "checkpoint")
    resumed = DynamicPrototypeClassifier(
        **DPC_PARAMS, callbacks=[resuming], accelerator=accelerator
    ).fit(X, y)
    np.savez(
        output / f"rank{accelerator.process_index}.npz",
        checkpointed_proba=checkpointed.predict_proba(X),
        stopped_epochs=stopped.n_iter_,
        stopped_best=int(np.argmin(stopped.history_[:, "valid_loss"])) + 1,
        stopped_proba=stopped.predict_proba(X),
        resumed_proba=resumed.predict_proba(X),
        resumed_from=resuming.resumed_from_,
        world_size=accelerator.num_processes,
        weights=_weights(dpc),
        proba=dpc.predict_proba(X),
        n_iter=dpc.n_iter_,
        assignments=np.array(dpc.assignment_history_),
        case_weights=_weights(case),
        cluster_foreground=case.cluster_foreground_,
        eta=np.array(allnc.history_[:, "eta"]),
        allnc_weights=_weights(allnc),
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
