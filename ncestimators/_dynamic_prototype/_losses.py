"""The DL2PA loss: input-to-prototype mapping (Eq. 6) and the class representatives' update."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn

from .._model import sum_over_processes
from .._weights import weighted_mean

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
    weigh 0 is not in it. Costs O(c + batch x d): only the batch's classes get a sum.
    """
    counts = torch.bincount(target, weights=sample_weight, minlength=len(representatives))
    present = sum_over_processes(counts).nonzero().squeeze(1)
    if len(present) == 0:
        return
    if sample_weight is not None:
        embeddings = embeddings * sample_weight.unsqueeze(1).to(embeddings.dtype)
    # A sample of a class outside `present` weighs 0, so the row it is added to is unchanged.
    rows = torch.searchsorted(present, target).clamp_(max=len(present) - 1)
    sums = embeddings.new_zeros(len(present), embeddings.shape[1]).index_add_(0, rows, embeddings)
    means = sum_over_processes(sums).to(representatives.dtype) / counts[present].unsqueeze(1)
    representatives[present] = torch.lerp(means, representatives[present], momentum)
