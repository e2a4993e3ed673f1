"""Losses of CeCo: pixel cross-entropy, Dice, Lovász and the center-collapse loss (Eq. 3-5)."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from .._inputs import IGNORED


class CeCoLoss(nn.Module):
    """Pixel cross-entropy (+ Dice or Lovász) and, in training, lambda times the center loss.

    Positions with target ``IGNORED`` take part in nothing; a batch without any labelled
    position gives a zero loss that still backpropagates (zero gradients, no NaN).
    """

    def __init__(self, *, lambda_center, etf_scale, aux_loss):
        super().__init__()
        self.lambda_center = lambda_center
        self.etf_scale = etf_scale
        self.aux_loss = aux_loss

    def forward(self, outputs, target):
        if self.training:
            logits, embeddings, center_weight = outputs
        else:
            logits, embeddings, center_weight = outputs, None, None
        logits = logits.reshape(-1, logits.shape[-1])
        target = target.reshape(-1)
        labelled = target != IGNORED
        if not labelled.any():
            return logits.sum() * 0.0
        logits, target = logits[labelled], target[labelled]
        loss = F.cross_entropy(logits, target)
        if self.aux_loss is not None:
            loss = loss + _AUX_LOSSES[self.aux_loss](logits.softmax(dim=1), target)
        if embeddings is not None and self.lambda_center > 0:
            embeddings = embeddings.reshape(-1, embeddings.shape[-1])[labelled]
            center_loss = center_collapse_loss(embeddings, target, center_weight, self.etf_scale)
            loss = loss + self.lambda_center * center_loss
        return loss


def center_collapse_loss(embeddings, target, center_weight, scale):
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

    Returns
    -------
    loss : Tensor
        Mean over the classes present of ``CE(s * cos(center_k, w), k)``.
    """
    n_classes = center_weight.shape[0]
    counts = torch.bincount(target, minlength=n_classes)
    sums = embeddings.new_zeros(n_classes, embeddings.shape[1]).index_add(0, target, embeddings)
    present = counts.nonzero().squeeze(1)
    centers = F.normalize(sums[present] / counts[present, None], dim=1)
    logits = scale * centers @ F.normalize(center_weight, dim=1).T
    return F.cross_entropy(logits, present)


def dice_loss(probabilities, target):
    """One minus the soft Dice coefficient, averaged over the classes present in ``target``."""
    one_hot = F.one_hot(target, probabilities.shape[1]).to(probabilities.dtype)
    present = one_hot.sum(dim=0) > 0
    overlap = (probabilities * one_hot).sum(dim=0)[present]
    total = (probabilities + one_hot).sum(dim=0)[present]
    return 1 - (2 * overlap / total).mean()


def lovasz_softmax_loss(probabilities, target):
    """Lovász extension of the Jaccard loss of each class present, averaged (Berman et al.)."""
    present = target.unique()
    foreground = (target[:, None] == present).to(probabilities.dtype)
    errors = (foreground - probabilities[:, present]).abs()
    errors, order = errors.sort(dim=0, descending=True)
    return (errors * _lovasz_gradient(foreground.gather(0, order))).sum(dim=0).mean()


def _lovasz_gradient(sorted_foreground):
    """Increments of the Jaccard loss as positions join, in decreasing-error order (per column)."""
    total = sorted_foreground.sum(dim=0)
    intersection = total - sorted_foreground.cumsum(dim=0)
    union = total + (1 - sorted_foreground).cumsum(dim=0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


_AUX_LOSSES = {"dice": dice_loss, "lovasz": lovasz_softmax_loss}
