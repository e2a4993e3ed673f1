"""One process of the 2-process FineTune test (launched by test_fine_tune_jobs.py with torchrun).

Fine-tunes, under an ``Accelerator(cpu=True)`` (gloo on loopback), two backbones cut at a
layer: a torchvision ResNet-18 in front of CeCoSegmenter (cut at its stride-16 default,
``layer3``, so that ``layer4`` and ``fc`` never run) and a custom conv net cut at ``conv2`` in
front of DynamicPrototypeClassifier (its ``fc`` never runs). DistributedDataParallel rejects a
module with parameters that get no gradient, so both fits only run if the cut drops them. Saves
this rank's weights, history and predictions.
"""

import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from torch import nn

from ncestimators import CeCoSegmenter, DynamicPrototypeClassifier
from ncestimators.adapters import FineTune

EPOCHS = 2


def images():
    """16 RGB images of 32 x 32 pixels in 2 classes, and their pixel labels (a bright square)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 120, (16, 32, 32, 3), dtype=np.uint8)
    y = np.arange(16) % 2
    X[y == 1, 4:20, 4:20] = 255
    pixels = (X.min(axis=-1) == 255).astype(int)
    return X, y, pixels


def conv_net():
    """A classifier whose ``conv2`` map is the feature; ``fc`` is what the cut must drop."""
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()),
            conv2=nn.Conv2d(8, 16, 3, stride=2),
            flatten=nn.Flatten(),
            fc=nn.Linear(16 * 15 * 15, 10),
        )
    )


def _network_weights(model):
    module = model.estimator_.net_.module_
    return torch.cat([p.detach().flatten() for p in module.parameters()]).numpy()


def _record(model, name):
    history = model.estimator_.history_
    return {
        f"{name}_weights": _network_weights(model),
        f"{name}_n_iter": model.estimator_.n_iter_,
        f"{name}_train_loss": np.array(history[:, "train_loss"]),
    }


def main(output):
    accelerator = Accelerator(cpu=True)
    X, y, pixels = images()
    params = {"max_epochs": EPOCHS, "batch_size": 4, "random_state": 0, "accelerator": accelerator}
    segmenter = FineTune(CeCoSegmenter(**params), backbone="resnet18").fit(X, pixels)
    classifier = FineTune(
        DynamicPrototypeClassifier(hidden_dims=(8,), **params), backbone=conv_net(), layer="conv2"
    ).fit(X, y)
    np.savez(
        output / f"rank{accelerator.process_index}.npz",
        world_size=accelerator.num_processes,
        predictions=classifier.predict_proba(X),
        **_record(segmenter, "segmenter"),
        **_record(classifier, "classifier"),
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
