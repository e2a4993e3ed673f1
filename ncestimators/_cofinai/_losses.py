"""The CoFInAI objective: Eq. 2's four terms and the query diversity term (not in the paper)."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from .._weights import weighted_cross_entropy, weighted_mean

__all__ = []


class CoarseToFineLoss(nn.Module):
    """Eq. 2 plus the query diversity term in training; L_S alone in evaluation (validation).

    The target rows are ``(score rescaled to [0, 1], grade, sub-grade)``; ``n_levels`` is the
    number of sub-grades over the whole range, which makes L_S count errors in sub-grades.

    With ``sample_weight`` (one per video), L_S, L_C, L_F and the query diversity term are
    weighted means over the videos; the graph regulariser acts on the grade prototypes, not
    on videos, and is not weighted.
    """

    def __init__(self, *, n_levels, lambda_coarse, lambda_fine, lambda_graph, lambda_diversity):
        super().__init__()
        self.n_levels = n_levels
        self.lambda_coarse = lambda_coarse
        self.lambda_fine = lambda_fine
        self.lambda_graph = lambda_graph
        self.lambda_diversity = lambda_diversity

    def forward(self, outputs, target, sample_weight=None):
        unit_score, _, _, grade_logits, subgrade_cosines, *extras = outputs
        errors = (self.n_levels * (unit_score - target[:, 0])).square()
        loss = 0.5 * weighted_mean(errors, sample_weight)
        if not self.training:
            return loss
        grades, subgrades = target[:, 1].long(), target[:, 2].long()
        coarse = weighted_cross_entropy(grade_logits, grades, sample_weight)
        loss = loss + self.lambda_coarse * coarse
        if subgrade_cosines.shape[1]:
            true_cosines = subgrade_cosines.gather(1, subgrades.unsqueeze(1)).squeeze(1)
            fine = weighted_mean((true_cosines - 1).square(), sample_weight)
            loss = loss + self.lambda_fine * 0.5 * fine
        prototypes, attention = extras
        if prototypes is not None and self.lambda_graph:
            loss = loss + self.lambda_graph * graph_regulariser(prototypes)
        if attention is not None and self.lambda_diversity:
            loss = loss + self.lambda_diversity * attention_overlap(attention, sample_weight)
        return loss


def graph_regulariser(prototypes):
    """Quality-aware graph regulariser L_R (Eq. 8) of ``(G, d)`` grade prototypes.

    Row by row, the KL divergence from the normalised grade distances ``|i - j|`` to the
    normalised angles between prototype i and the others, averaged over the rows.
    """
    n_grades = len(prototypes)
    unit = F.normalize(prototypes, dim=1)
    # arccos has an infinite slope at +-1; identical or opposite prototypes stay differentiable.
    cosines = (unit @ unit.T).clamp(-1 + 1e-6, 1 - 1e-6)
    others = ~torch.eye(n_grades, dtype=torch.bool, device=prototypes.device)
    angles = torch.arccos(cosines)[others].view(n_grades, n_grades - 1)
    levels = torch.arange(n_grades, device=prototypes.device)
    distances = (levels[:, None] - levels).abs()[others].view(n_grades, n_grades - 1)
    target = distances / distances.sum(dim=1, keepdim=True)
    log_model = torch.log(angles / angles.sum(dim=1, keepdim=True))
    return (target * (target.log() - log_model)).sum(dim=1).mean()


def attention_overlap(attention, weights=None):
    """Mean cosine similarity between the attention maps of different queries, in [0, 1].

    ``attention`` is ``(B, P, T)``, each row a distribution over the clips (padding has weight
    0). The term is 1 when all P queries attend alike and 0 when no two share a clip. Averaged
    over the videos, weighted by their ``weights`` if given.
    """
    n_queries = attention.shape[1]
    if n_queries < 2:
        return attention.new_zeros(())
    unit = F.normalize(attention, dim=2)
    similarity = unit @ unit.transpose(1, 2)
    off_diagonal = similarity.sum(dim=(1, 2)) - similarity.diagonal(dim1=1, dim2=2).sum(dim=1)
    return weighted_mean(off_diagonal / (n_queries * (n_queries - 1)), weights)
