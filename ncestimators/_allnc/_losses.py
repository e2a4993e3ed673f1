"""The AllNC loss (Eq. 14): GBBN classification, HyCon and P2P on class means and classifier.

Also the weighted means that every ncestimators loss takes its ``sample_weight`` through.
"""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from .._model import EpochSteps, sum_over_processes
from .._weights import (
    class_sums,
    safe_denominator,
    weighted_mean,
    with_class_weight,
)

__all__ = []


class AllNCLoss(EpochSteps, nn.Module):
    """Eq. 14 in training mode; the class-balanced cross-entropy in eval mode.

    Built from the training mass of the classes (their counts, or their total sample weight)
    and the estimator's loss parameters; holds the curriculum weight ``eta``, set by
    :meth:`start_epoch`. The class weights are derived from constructor arguments, so they are
    non-persistent buffers: they move with the loss between devices but are not learned state.

    With ``sample_weight``, every per-sample mean is a weighted mean (both views of a sample
    carry its weight), ``class_weight`` multiplies the weights of the two cross-entropy terms,
    and the class means of HyCon and of P2P are weighted means. The P2P terms themselves are
    over classes and classifier rows, and are not weighted (nor is the head's batch
    normalisation of the projections).
    """

    def __init__(
        self, class_counts, *, alpha, gamma, rebalance_power, hycon, p2p, mean_momentum,
        class_weight=None,
    ):  # fmt: skip
        super().__init__()
        counts = torch.as_tensor(class_counts, dtype=torch.float32)
        self.register_buffer(
            "gbbn_weights", rebalance_weights(counts, rebalance_power), persistent=False
        )
        self.register_buffer("balanced_weights", rebalance_weights(counts, 1.0), persistent=False)
        self.register_buffer("class_priors", counts / counts.sum(), persistent=False)
        if class_weight is not None:
            class_weight = torch.as_tensor(class_weight, dtype=torch.float32)
        self.register_buffer("class_weight", class_weight, persistent=False)
        self.n_classes = len(counts)
        self.alpha = alpha
        self.gamma = gamma
        self.hycon = hycon
        self.p2p = p2p
        self.mean_momentum = mean_momentum
        self.eta = 1.0

    def start_epoch(self, epoch, max_epochs):
        self.eta = gbbn_eta(epoch, max_epochs, self.gamma)

    def forward(self, outputs, target, sample_weight=None):
        if not self.training:
            cross_entropy = F.cross_entropy(outputs, target, reduction="none")
            return weighted_mean(self.balanced_weights[target] * cross_entropy, sample_weight)
        targets = target.repeat(2)
        weights = None if sample_weight is None else sample_weight.repeat(2)
        cross_entropy_weights = with_class_weight(weights, self.class_weight, targets)
        cross_entropy = F.cross_entropy(outputs.logits, targets, reduction="none")
        # Sum over the two views of per-view means: twice the mean over the stacked views.
        plain = 2 * weighted_mean(cross_entropy, cross_entropy_weights)
        rebalanced = 2 * weighted_mean(
            self.gbbn_weights[targets] * cross_entropy, cross_entropy_weights
        )
        loss = self.eta * plain + (1 - self.eta) * rebalanced
        if self.p2p:
            classifier = F.normalize(outputs.classifier_weight, dim=1)
            loss = loss + 2 * (1 - self.eta) * p2p_loss(classifier)
        if self.alpha > 0 and self.hycon:
            loss = loss + self.alpha * hycon_loss(
                *outputs.predictions.chunk(2), *outputs.projections.chunk(2), target,
                self.n_classes, sample_weight,
            )  # fmt: skip
        if self.alpha > 0 and self.p2p:
            centred_means = self._centred_class_means(
                outputs.features, targets, outputs.mean_memory, outputs.seen, weights
            )
            if centred_means is not None:
                loss = loss + self.alpha * p2p_loss(centred_means)
        return loss

    def _centred_class_means(self, features, targets, memory, seen, weights=None):
        """Normalised class means minus the global mean; None until every class was seen.

        Updates, in place, the head's ``memory`` of class means, which stands in for classes
        absent from the batch, and its mask of the classes ``seen``. Under several processes
        the memory follows the means over all the processes' batches. With ``weights``, the
        means are weighted and a class whose samples all weigh 0 is absent.
        """
        means, present = batch_class_means(features, targets, self.n_classes, weights)
        with torch.no_grad():
            sums, counts = class_sums(features.detach(), targets, self.n_classes, weights)
            observed = sum_over_processes(counts) > 0
            sums = sum_over_processes(sums) / safe_denominator(counts.to(sums.dtype)).unsqueeze(1)
            fresh = observed & ~seen
            memory[fresh] = sums[fresh]
            memory[observed] = torch.lerp(sums[observed], memory[observed], self.mean_momentum)
            seen |= observed
        if not seen.all():
            return None
        means = torch.where(present.unsqueeze(1), means, memory)
        return F.normalize(means - self.class_priors @ means, dim=1)


def hycon_loss(h1, h2, z1, z2, target, n_classes, weights=None):
    """HyCon (Eq. 8): predictions and class means of one view against the other's projections.

    ``h1, h2`` are the predictor outputs and ``z1, z2`` the projections of the two views of the
    same ``target`` samples. No gradient flows into the ``z`` that play the targets. With
    ``weights`` (one per sample), class means and the batch mean are weighted.
    """
    u1 = batch_class_means(z1, target, n_classes, weights)[0][target]
    u2 = batch_class_means(z2, target, n_classes, weights)[0][target]
    return _negative_cosines(h1, u2, z2.detach(), weights) + _negative_cosines(
        h2, u1, z1.detach(), weights
    )


def _negative_cosines(h, u, z, weights):
    """``sim(h, u, z)`` of Eq. 8, averaged over the batch."""
    return -weighted_mean(
        F.cosine_similarity(h, z, dim=1) + F.cosine_similarity(u, z, dim=1), weights
    )


def p2p_loss(vectors):
    """P2P (Eq. 10-11): mean squared gap between the Gram matrix of the rows and the ETF's.

    The c x c Gram matrix is never formed. With ``V`` the (c, d) rows and ``rho`` the ETF's Gram
    matrix (ones on the diagonal, ``-1 / (c - 1)`` elsewhere),
    ``||V V^T - rho||_F^2 = ||V^T V||_F^2 - 2 (c ||V||_F^2 - ||V^T 1||^2) / (c - 1)
    + c + c / (c - 1)``: O(c d^2) instead of O(c^2 d), 40 times less at 10,000 classes and
    d = 256, where the Gram matrix made every training step take 2.6 s.
    """
    n = len(vectors)
    alignment = n * vectors.square().sum() - vectors.sum(dim=0).square().sum()
    squared_gap = (vectors.T @ vectors).square().sum() - 2 * alignment / (n - 1) + n + n / (n - 1)
    return squared_gap / n**2


def batch_class_means(features, target, n_classes, weights=None):
    """Per-class means of ``features`` (zero for absent classes) and the mask of present ones.

    With ``weights`` (one per sample), weighted means; a class whose samples all weigh 0 is
    absent.
    """
    sums, counts = class_sums(features, target, n_classes, weights)
    means = sums / safe_denominator(counts.to(features.dtype)).unsqueeze(1)
    return means, counts > 0


def rebalance_weights(class_counts, power):
    """Class weights proportional to ``n_c ** -power`` whose mean over training samples is 1.

    A class of count 0 (all its samples weigh 0) gets weight 0.
    """
    weights = torch.where(class_counts > 0, class_counts.pow(-power), 0.0)
    return weights * class_counts.sum() / (class_counts * weights).sum()


def gbbn_eta(epoch, max_epochs, gamma):
    """Curriculum weight ``1 - (T / T_max) ** gamma`` (Eq. 13) of the 0-based ``epoch``.

    ``T = epoch + 1`` runs from 1 to ``T_max`` as in Algorithm 1, so the last epoch trains the
    re-balancing loss alone; epochs past ``T_max`` (warm starts) keep eta at 0.
    """
    return 1.0 - min(1.0, (epoch + 1) / max_epochs) ** gamma
