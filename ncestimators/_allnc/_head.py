"""The AllNC head: encoder, SimSiam-style projector and predictor, linear classifier."""

# SPDX-License-Identifier: BSD-3-Clause

from collections import namedtuple

import torch
from torch import nn
from torch.nn import functional as F

from .._model import ComparesViews, mlp

__all__ = []

# What the head gives the loss in training mode, for the 2 * batch views stacked view by view,
# and the memory of class means (with the classes seen so far) that the loss keeps up to date.
TrainingOutputs = namedtuple(
    "TrainingOutputs",
    "logits features projections predictions classifier_weight mean_memory seen",
)


class AllNCHead(ComparesViews, nn.Module):
    """Encoder, SimSiam-style projector and predictor, and linear classifier.

    In eval mode the forward pass returns the logits of the clean input. In training mode it
    takes two views of every sample, either given as a pair (two image augmentations, from a
    fine-tuned backbone) or made here (Gaussian noise of standard deviation
    ``feature_noise``, then feature dropout with probability ``feature_dropout``), and
    returns :data:`TrainingOutputs`. The buffers ``mean_memory`` and ``seen`` hold the moving
    averages of the class means of the encoder features, which the loss updates.
    """

    def __init__(
        self, n_features, hidden_dims, projection_dim, *, n_classes, feature_noise,
        feature_dropout,
    ):  # fmt: skip
        super().__init__()
        self.encoder = _relu_encoder(n_features, hidden_dims)
        n_hidden = hidden_dims[-1] if hidden_dims else n_features
        # The output normalisation removes the common offset that would satisfy HyCon
        # trivially (see AllNCClassifier's docstring).
        self.projector = nn.Sequential(
            mlp(n_hidden, (projection_dim,), projection_dim),
            nn.BatchNorm1d(projection_dim, affine=False),
        )
        self.predictor = mlp(projection_dim, (max(1, projection_dim // 4),), projection_dim)
        self.classifier = nn.Linear(n_hidden, n_classes)
        # Zero start, as for ViT heads: no class begins with a random head start over the others.
        nn.init.zeros_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)
        self.feature_noise = feature_noise
        self.feature_dropout = feature_dropout
        self.register_buffer("mean_memory", torch.zeros(n_classes, n_hidden))
        self.register_buffer("seen", torch.zeros(n_classes, dtype=torch.bool))

    def forward(self, inputs):
        if not self.training:
            return self.classifier(self.encoder(inputs))
        views = inputs if isinstance(inputs, tuple) else (self._view(inputs), self._view(inputs))
        features = self.encoder(torch.cat(views))
        projections = self.projector(features)
        return TrainingOutputs(
            self.classifier(features),
            features,
            projections,
            self.predictor(projections),
            self.classifier.weight,
            self.mean_memory,
            self.seen,
        )

    def embed(self, inputs):
        """The encoder features of the clean input."""
        return self.encoder(inputs)

    def _view(self, inputs):
        if self.feature_noise > 0:
            inputs = inputs + self.feature_noise * torch.randn_like(inputs)
        if self.feature_dropout > 0:
            inputs = F.dropout(inputs, self.feature_dropout, training=True)
        return inputs


def _relu_encoder(n_features, widths):
    """``Linear -> ReLU`` per width: features that stay non-negative, like a CNN's last layer."""
    layers = []
    for width in widths:
        layers += [nn.Linear(n_features, width), nn.ReLU()]
        n_features = width
    return nn.Sequential(*layers)
