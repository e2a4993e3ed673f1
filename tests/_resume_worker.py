"""One process of the resume tests (test_long_runs.py): fit, get killed, or resume.

``python _resume_worker.py CASE MODE DIRECTORY``. MODE ``kill`` fits CASE with a
TrainingCheckpoint in DIRECTORY and SIGKILLs this process when epoch ``KILL_AT + 1`` begins;
``resume`` fits a new estimator with the same checkpoint, then one without it (uninterrupted),
and saves both networks' weights and histories to DIRECTORY/result.pt. Launched by torchrun,
every process does so under an ``Accelerator(cpu=True)``, and process 0 saves the result.
"""

import json
import os
import signal
import sys
from pathlib import Path

import torch
from skorch.callbacks import Callback

from ncestimators import AllNCClassifier, CoFInAIRegressor, DynamicPrototypeClassifier
from ncestimators.callbacks import TrainingCheckpoint
from ncestimators.datasets import load_digits_lt, make_aqa_sequences, make_superclass_features

KILL_AT = 3


def _digits():
    data = load_digits_lt(imbalance_ratio=10, random_state=0)
    return data.X_train / 16, data.y_train


# Each case exercises state beyond the weights: early stopping with the best weights and a
# held-out split (DL2PA), a learning-rate schedule (CoFInAI), a curriculum and class-mean
# memory with random feature noise (AllNC).
CASES = {
    "dl2pa": (
        DynamicPrototypeClassifier,
        lambda: make_superclass_features(n_samples=200, random_state=0),
        {"max_epochs": 8, "validation_fraction": 0.25, "n_iter_no_change": 20},
    ),
    "cofinai": (
        CoFInAIRegressor,
        lambda: make_aqa_sequences(n_videos=30, n_features=6, random_state=0),
        {"max_epochs": 6, "d_procedure": 8, "d_score": 4},
    ),
    "allnc": (AllNCClassifier, _digits, {"max_epochs": 6, "hidden_dims": (32,)}),
}


class KillAt(Callback):
    """SIGKILL this process when epoch ``epoch + 1`` begins: no Python cleanup runs."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch + 1:
            os.kill(os.getpid(), signal.SIGKILL)


def _outcome(model):
    history = [{k: v for k, v in row.items() if k != "dur"} for row in model.history_]
    return {"state": model.net_.module_.state_dict(), "history": json.dumps(history)}


def main(case, mode, directory):
    torch.set_num_threads(1)  # bit-identical results need a fixed summation order
    make, data, params = CASES[case]
    X, y = data()
    params = {**params, "random_state": 0}
    process = 0
    if "WORLD_SIZE" in os.environ:
        from accelerate import Accelerator

        accelerator = Accelerator(cpu=True)
        params["accelerator"], process = accelerator, accelerator.process_index
    if mode == "kill":
        callbacks = [KillAt(KILL_AT), TrainingCheckpoint(directory)]
        make(**params, callbacks=callbacks).fit(X, y)
        raise AssertionError("the fit was not killed")
    checkpoint = TrainingCheckpoint(directory)
    resumed = make(**params, callbacks=[checkpoint]).fit(X, y)
    uninterrupted = make(**params).fit(X, y)
    if process != 0:
        return
    torch.save(
        {
            "resumed_from": checkpoint.resumed_from_,
            "resumed": _outcome(resumed),
            "uninterrupted": _outcome(uninterrupted),
        },
        Path(directory) / "result.pt",
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
