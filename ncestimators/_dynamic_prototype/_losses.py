"""The DL2PA loss: input-to-prototype mapping (Eq. 6) and the class representatives' update."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn

from .._model import sum_over_processes
from .._weights import class_sums, weighted_mean

__all__ = []


class IPMLoss(nn.Module):
    """Mean of ``(cos(z, w_A(y)) - 1)^2 / 2``; in training also updates the representatives.

    With ``sample_weight``, the weighted mean ``sum_i s_i (cos_i - 1)^2 / 2 / sum_i s_i``, and
    the batch class means that move the representatives are weighted means.
    """

    def __init__(self, momentum):
        super().__init__()
        self.momentum = momentum

    def forward(self, outputs, target, sample_weight=None):
        if self.training:
            class_cosines, embeddings, representatives = outputs
            update_representatives(
                representatives, embeddings.detach(), target, self.momentum, sample_weight
            )
        else:
            class_cosines = outputs
        cosines = class_cosines.gather(1, target.unsqueeze(1)).squeeze(1)
        return 0.5 * weighted_mean((cosines - 1).square(), sample_weight)


@torch.no_grad()
def update_representatives(representatives, embeddings, target, momentum, sample_weight=None):
    """Move the representative of every class in the batch towards its batch mean, in place.

    Under several processes the batch is the union of the processes' batches. With
    ``sample_weight``, the batch means are weighted, and a class whose samples in the batch all
    weigh 0 is not in it.
    """
    sums, counts = class_sums(
        embeddings.to(representatives.dtype), target, len(representatives), sample_weight
    )
    sum_over_processes(sums)
    sum_over_processes(counts)
    present = counts > 0
    means = sums[present] / counts[present].unsqueeze(1)
    representatives[present] = torch.lerp(means, representatives[present], momentum)
