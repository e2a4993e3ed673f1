"""One process of the 2-process accelerate test (launched by test_accelerate.py with torchrun).

Fits a DynamicPrototypeClassifier under an ``Accelerator(cpu=True)`` (gloo on loopback), with a
held-out split so that early stopping has to agree between processes, and saves this rank's
weights, predictions and epoch count.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator

from ncestimators import DynamicPrototypeClassifier
from ncestimators.datasets import make_superclass_features


def main(output):
    accelerator = Accelerator(cpu=True)
    X, y = make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=200, n_features=6, random_state=0
    )
    model = DynamicPrototypeClassifier(
        hidden_dims=(8,), max_epochs=6, batch_size=32, validation_fraction=0.25, n_iter_no_change=2,
        accelerator=accelerator, random_state=0,
    ).fit(X, y)  # fmt: skip
    weights = torch.cat([parameter.detach().flatten() for parameter in model._head.parameters()])
    np.savez(
        output / f"rank{accelerator.process_index}.npz",
        weights=weights.numpy(),
        proba=model.predict_proba(X),
        n_iter=model.n_iter_,
        world_size=accelerator.num_processes,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
