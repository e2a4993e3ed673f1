"""The CeCo head: per-position embedding, pixel classifier and center classifier."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from torch import nn


class CeCoHead(nn.Module):
    """Per-position embedding, pixel classifier and center classifier.

    Works on inputs of shape ``(..., n_features)``. In training mode the forward pass also
    returns the embeddings and the center-classifier weights, which the loss needs to form and
    classify the class centers; in eval mode only the pixel logits.
    """

    def __init__(self, embedding, classifier, center_classifier):
        super().__init__()
        self.embedding = embedding
        self.classifier = classifier
        self.center_classifier = center_classifier

    def forward(self, inputs):
        embeddings = self.embedding(inputs)
        logits = self.classifier(embeddings)
        if self.training:
            return logits, embeddings, self.center_classifier.weight
        return logits

    def embed(self, inputs):
        """The per-position embeddings that both classifiers read."""
        return self.embedding(inputs)


class BiasFreeLinear(nn.Module):
    """Linear map ``inputs @ weight.T``; the weight is a constant buffer unless ``trainable``."""

    def __init__(self, weight, *, trainable):
        super().__init__()
        if trainable:
            self.weight = nn.Parameter(weight)
        else:
            self.register_buffer("weight", weight)

    def forward(self, inputs):
        return inputs @ self.weight.T


def random_unit_rows(n_rows, dim, seed):
    rows = np.random.default_rng(seed).standard_normal((n_rows, dim))
    return torch.from_numpy(rows / np.linalg.norm(rows, axis=1, keepdims=True)).float()
