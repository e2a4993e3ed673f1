"""The DL2PA head: an MLP onto the unit sphere, fixed prototypes and a learned assignment."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from .._model import EpochSteps, mlp
from ..ot import assign

__all__ = []


class SphereHead(EpochSteps, nn.Module):
    """MLP onto the unit sphere, scored against fixed prototypes under a learned assignment.

    Holds the assignment state as buffers so that it is saved, restored with the best epoch's
    weights and moved between devices together with the network. In training mode the forward
    pass also returns the normalised embeddings and the class-representative buffer: only the
    loss sees the labels, so the loss updates the representatives. ``assign_every`` is the
    number of epochs between re-assignments, None for a static assignment.
    """

    def __init__(self, n_features, hidden_dims, prototypes, *, assign_every):
        super().__init__()
        n_classes, dim = prototypes.shape
        self.encoder = mlp(n_features, hidden_dims, dim)
        self.register_buffer("prototypes", prototypes)
        self.register_buffer("assignment", torch.arange(n_classes))
        self.register_buffer("representatives", torch.zeros(n_classes, dim))
        self.assign_every = assign_every
        self.epoch = 0

    def forward(self, inputs):
        embeddings = self.embed(inputs)
        class_cosines = embeddings @ self.prototypes[self.assignment].T
        if self.training:
            return class_cosines, embeddings, self.representatives
        return class_cosines

    def embed(self, inputs):
        """Points on the unit sphere."""
        return F.normalize(self.encoder(inputs), dim=1)

    def start_epoch(self, epoch, max_epochs):
        self.epoch = epoch

    def end_epoch(self):
        """Re-assign every ``assign_every`` epochs; the new assignment goes to the history."""
        if self.assign_every is not None and (self.epoch + 1) % self.assign_every == 0:
            return {"event_assignment": self.reassign().tolist()}
        return None

    @torch.no_grad()
    def reassign(self):
        """Match classes to prototypes by the cosine of their representatives (Eq. 9)."""
        similarity = F.normalize(self.representatives, dim=1) @ self.prototypes.T
        assignment = assign(similarity)
        self.assignment.copy_(torch.from_numpy(assignment))
        return assignment
