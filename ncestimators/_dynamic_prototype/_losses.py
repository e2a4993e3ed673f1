"""The DL2PA loss: input-to-prototype mapping (Eq. 6) and the class representatives' update."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn

from .._training import sum_over_processes

__all__ = []


class IPMLoss(nn.Module):
    """Mean of ``(cos(z, w_A(y)) - 1)^2 / 2``; in training also updates the representatives."""

    def __init__(self, momentum):
        super().__init__()
        self.momentum = momentum

    def forward(self, outputs, target):
        if self.training:
            class_cosines, embeddings, representatives = outputs
            update_representatives(representatives, embeddings.detach(), target, self.momentum)
        else:
            class_cosines = outputs
        cosines = class_cosines.gather(1, target.unsqueeze(1)).squeeze(1)
        return 0.5 * (cosines - 1).square().mean()


@torch.no_grad()
def update_representatives(representatives, embeddings, target, momentum):
    """Move the representative of every class in the batch towards its batch mean, in place.

    Under several processes the batch is the union of the processes' batches.
    """
    sums = torch.zeros_like(representatives).index_add_(0, target, embeddings)
    counts = torch.bincount(target, minlength=len(representatives))
    sum_over_processes(sums)
    sum_over_processes(counts)
    present = counts > 0
    means = sums[present] / counts[present].unsqueeze(1)
    representatives[present] = torch.lerp(means, representatives[present], momentum)
