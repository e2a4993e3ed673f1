"""Losses of CeCo: pixel cross-entropy, Dice, Lovász and the center-collapse loss (Eq. 3-5)."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from .._data import IGNORED
from .._weights import class_sums, weighted_cross_entropy, with_class_weight


class CeCoLoss(nn.Module):
    """Pixel cross-entropy (+ Dice or Lovász) and, in training, lambda times the center loss.

    Positions with target ``IGNORED`` take part in nothing; a batch without any labelled
    position gives a zero loss that still backpropagates (zero gradients, no NaN).

    With ``sample_weight`` (one per image), every position carries its image's weight:
    positions of weight 0 take part in nothing, the cross-entropy is the weighted mean over
    positions (``class_weight`` multiplying the weights there), Dice and Lovász count
    positions by weight, and the class centers are weighted means; the center loss itself
    averages over classes and is not weighted.
    """

    def __init__(self, *, lambda_center, etf_scale, aux_loss, class_weight=None):
        super().__init__()
        self.lambda_center = lambda_center
        self.etf_scale = etf_scale
        self.aux_loss = aux_loss
        if class_weight is not None:
            class_weight = torch.as_tensor(class_weight, dtype=torch.float32)
        self.register_buffer("class_weight", class_weight, persistent=False)

    def forward(self, outputs, target, sample_weight=None):
        if self.training:
            logits, embeddings, center_weight = outputs
        else:
            logits, embeddings, center_weight = outputs, None, None
        weights = None
        if sample_weight is not None:
            weights = sample_weight.unsqueeze(1).expand(target.shape).reshape(-1)
        logits = logits.reshape(-1, logits.shape[-1])
        target = target.reshape(-1)
        labelled = target != IGNORED
        if weights is not None:
            labelled &= weights > 0
            weights = weights[labelled]
        if not labelled.any():
            return logits.sum() * 0.0
        logits, target = logits[labelled], target[labelled]
        loss = weighted_cross_entropy(
            logits, target, with_class_weight(weights, self.class_weight, target)
        )
        if self.aux_loss is not None:
            loss = loss + _AUX_LOSSES[self.aux_loss](logits.softmax(dim=1), target, weights)
        if embeddings is not None and self.lambda_center > 0:
            embeddings = embeddings.reshape(-1, embeddings.shape[-1])[labelled]
            center_loss = center_collapse_loss(
                embeddings, target, center_weight, self.etf_scale, weights
            )
            loss = loss + self.lambda_center * center_loss
        return loss


def center_collapse_loss(embeddings, target, center_weight, scale, weights=None):
    """Cross-entropy of the normalised class centers of a batch against a (fixed) classifier.

    Parameters
    ----------
    embeddings : Tensor of shape (n, d)
        Embeddings of labelled positions.
    target : Tensor of shape (n,)
        Their classes in ``0 .. K - 1``.
    center_weight : Tensor of shape (K, d)
        Center classifier, one row per class; rows are normalised (a no-op for the ETF).
    scale : float
        Logit scale s.
    weights : Tensor of shape (n,), default=None
        Positive weights of the positions; the centers are then weighted means.

    Returns
    -------
    loss : Tensor
        Mean over the classes present of ``CE(s * cos(center_k, w), k)``.
    """
    n_classes = center_weight.shape[0]
    sums, counts = class_sums(embeddings, target, n_classes, weights)
    present = counts.nonzero().squeeze(1)
    centers = F.normalize(sums[present] / counts[present, None], dim=1)
    logits = scale * centers @ F.normalize(center_weight, dim=1).T
    return F.cross_entropy(logits, present)


def dice_loss(probabilities, target, weights=None):
    """One minus the soft Dice coefficient, averaged over the classes present in ``target``.

    With ``weights`` (positive, one per position), overlaps and totals are weighted sums.
    """
    one_hot = F.one_hot(target, probabilities.shape[1]).to(probabilities.dtype)
    scale = 1.0 if weights is None else weights.unsqueeze(1)
    present = one_hot.sum(dim=0) > 0
    overlap = (scale * probabilities * one_hot).sum(dim=0)[present]
    total = (scale * (probabilities + one_hot)).sum(dim=0)[present]
    return 1 - (2 * overlap / total).mean()


def lovasz_softmax_loss(probabilities, target, weights=None):
    """Lovász extension of the Jaccard loss of each class present, averaged (Berman et al.).

    With ``weights`` (positive, one per position), the extension of the Jaccard loss whose
    intersections and unions count positions by weight.
    """
    present = target.unique()
    foreground = (target[:, None] == present).to(probabilities.dtype)
    errors = (foreground - probabilities[:, present]).abs()
    errors, order = errors.sort(dim=0, descending=True)
    sorted_weights = 1.0 if weights is None else weights[order]
    gradient = _lovasz_gradient(foreground.gather(0, order), sorted_weights)
    return (errors * gradient).sum(dim=0).mean()


def _lovasz_gradient(sorted_foreground, sorted_weights=1.0):
    """Increments of the Jaccard loss as positions join, in decreasing-error order (per column).

    ``sorted_weights`` are the positions' weights in the same order (1 for each by default).
    """
    total = (sorted_weights * sorted_foreground).sum(dim=0)
    intersection = total - (sorted_weights * sorted_foreground).cumsum(dim=0)
    union = total + (sorted_weights * (1 - sorted_foreground)).cumsum(dim=0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


_AUX_LOSSES = {"dice": dice_loss, "lovasz": lovasz_softmax_loss}
