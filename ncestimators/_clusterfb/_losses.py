"""Losses and optimal-transport pseudo-labels of ClusterFBSeparator (CASE Eq. 1-14)."""

# SPDX-License-Identifier: BSD-3-Clause

from collections import namedtuple

import torch
from torch import nn
from torch.nn import functional as F

from .._model import sum_over_processes
from .._weights import weighted_mean
from ..ot import sinkhorn

__all__ = []

COSINE_SCALE = 10.0  # tau of the clustering head and rho of the cluster classifier (Eq. 5)
SINKHORN_EPS = 20.0  # epsilon of Eq. 10/12, multiplying cosines
SINKHORN_ITERATIONS = 3
LOG_PRIOR_FLOOR = -80.0  # exp(-80) is still a normal float32
CALIBRATION_WEIGHT = 0.25  # omega: weight of the class probabilities in the actionness (App. F.1)

# What the head gives the loss in training mode: its outputs, the snippet mask and the buffers
# that carry the clusters' foreground probabilities from one step to the next.
TrainingOutputs = namedtuple(
    "TrainingOutputs",
    "cas attention cosines mask embeddings prior_foreground foreground_sum",
)


class ClusterFBLoss(nn.Module):
    """Eq. 14: video and attention losses, plus the clustering losses in training mode.

    With ``sample_weight`` (one per video), the video and attention losses are weighted means
    over the videos, and L_S a weighted mean over the snippets, each carrying its video's
    weight. The snippets of videos of weight 0 take no part in the clustering; the others
    each count once in the pseudo-labels, the prototypes and the foreground marginal, batch
    statistics that are not weighted, and in L_C, a mean over the clusters.
    """

    def __init__(
        self, *, topk_ratio, gce_q, lambda_cluster, lambda_cluster_cls, prior_sigma,
        cluster_labeling,
    ):  # fmt: skip
        super().__init__()
        self.topk_ratio = topk_ratio
        self.gce_q = gce_q
        self.lambda_cluster = lambda_cluster
        self.lambda_cluster_cls = lambda_cluster_cls
        self.prior_sigma = prior_sigma
        self.cluster_labeling = cluster_labeling

    def forward(self, outputs, target, sample_weight=None):
        cas, attention, _, mask = outputs[:4]
        selection = actionness(cas.detach(), attention.detach().mean(dim=1))
        selected = topk_mask(selection, mask, self.topk_ratio)
        foreground = ((selected & (target[:, None, :] > 0)).any(dim=-1) & mask).float()
        loss = video_loss(cas, selected, target, sample_weight) + attention_loss(
            attention, foreground, mask, self.gce_q, sample_weight
        )
        clustering = self.lambda_cluster > 0 or self.lambda_cluster_cls > 0
        if self.training and clustering:
            loss = loss + self._clustering_loss(outputs, foreground, sample_weight)
        return loss

    def _clustering_loss(self, outputs, foreground, sample_weight):
        mask, snippet_weights = outputs.mask, None
        if sample_weight is not None:
            mask = mask & (sample_weight[:, None] > 0)
            snippet_weights = sample_weight[:, None].expand(mask.shape)[mask][:, None]
            if not mask.any():
                record_cluster_foreground(outputs, None)
                return outputs.cosines.sum() * 0.0
        cosines = outputs.cosines.transpose(1, 2)[mask]  # (N, streams, K)
        embeddings = outputs.embeddings.transpose(1, 2)[mask]  # (N, streams, H)
        attention = outputs.attention.transpose(1, 2)[mask].mean(dim=1).detach()
        labels = snippet_labels(
            cosines.mean(dim=1).detach(), attention, outputs.prior_foreground,
            prior_sigma=self.prior_sigma, labeling=self.cluster_labeling,
        )  # fmt: skip
        loss = self.lambda_cluster * soft_cross_entropy(
            COSINE_SCALE * cosines, labels[:, None], snippet_weights
        )
        foreground = foreground[mask]
        if not 0 < float(foreground.mean()) < 1:
            # No foreground/background split to classify clusters against.
            record_cluster_foreground(outputs, None)
            return loss
        similarity = cluster_cosines(embeddings, labels, foreground)
        fb_labels = cluster_labels(similarity.mean(dim=0).detach(), foreground)
        record_cluster_foreground(outputs, fb_labels[:, 0])
        return loss + self.lambda_cluster_cls * soft_cross_entropy(
            COSINE_SCALE * similarity, fb_labels
        )


def actionness(cas, foreground):
    """Class actionness ``omega softmax(P^V) + (1 - omega) P^F``, (B, T, G), streams fused."""
    class_proba = torch.softmax(cas, dim=-1).mean(dim=1)
    return CALIBRATION_WEIGHT * class_proba + (1 - CALIBRATION_WEIGHT) * foreground[..., None]


def topk_mask(scores, mask, ratio):
    """(B, T, G) mask of each video's top ``max(1, floor(ratio * T_i))`` snippets per class."""
    lengths = mask.sum(dim=1)
    k = torch.clamp((lengths * ratio).floor(), min=1)
    order = scores.masked_fill(~mask[..., None], -torch.inf).argsort(dim=1, descending=True)
    positions = torch.arange(scores.shape[1], device=scores.device)[None, :, None]
    ranks = torch.empty_like(order).scatter_(1, order, positions.expand_as(order))
    return ranks < k[:, None, None]


def video_logits(cas, selected):
    """Mean T-CAS logit of the selected snippets, (B, streams, G) (Eq. 16 before softmax)."""
    k = selected[:, :, 0].sum(dim=1)
    return (cas * selected[:, None]).sum(dim=2) / k[:, None, None]


def video_loss(cas, selected, target, weights=None):
    """Eq. 1: cross-entropy of the video logits against the normalised multi-hot labels.

    Averaged over the videos and streams, weighted by the videos' ``weights`` if given.
    """
    distribution = target / target.sum(dim=1, keepdim=True).clamp(min=1)
    weights = None if weights is None else weights[:, None]
    return soft_cross_entropy(video_logits(cas, selected), distribution[:, None], weights)


def attention_loss(attention, foreground, mask, q, weights=None):
    """Eq. 2: generalized BCE, positives and negatives averaged separately per video.

    Averaged over the videos and streams, weighted by the videos' ``weights`` if given.
    """
    positive, negative = foreground[:, None], (mask.float() - foreground)[:, None]
    attention = attention.masked_fill(~mask[:, None], 0.5)
    positive_loss = (1 - (attention + 1e-7) ** q) / q
    negative_loss = (1 - (1 - attention + 1e-7) ** q) / q
    per_video = (positive * positive_loss).sum(dim=-1) / positive.sum(dim=-1).clamp(min=1) + (
        negative * negative_loss
    ).sum(dim=-1) / negative.sum(dim=-1).clamp(min=1)
    return weighted_mean(per_video, None if weights is None else weights[:, None])


def soft_cross_entropy(logits, labels, weights=None):
    """Mean over all leading positions of ``-sum(labels * log_softmax(logits))``.

    With ``weights`` broadcastable to the leading positions, their weighted mean.
    """
    return weighted_mean(-(labels * torch.log_softmax(logits, dim=-1)).sum(dim=-1), weights)


def rank_prior(attention, cluster_foreground, sigma):
    """Eq. 11: Gaussian prior between each snippet's rank/N and each cluster's foreground.

    ``rank_n`` is the position (1 to N) of snippet n when sorted by increasing attention, so
    the most foreground-like snippets sit near the most foreground clusters. Each row is
    scaled to a maximum of 1, which leaves the transport plan unchanged, and entries are kept
    above ``exp(LOG_PRIOR_FLOOR)`` so that a very small sigma cannot leave a cluster without
    any positive entry (no plan would then meet the equipartition marginals).
    """
    n_snippets = len(attention)
    ranks = attention.argsort().argsort() + 1
    distance = ranks[:, None] / n_snippets - cluster_foreground[None, :]
    log_prior = -(distance**2) / (2 * sigma**2)
    log_prior = log_prior - log_prior.amax(dim=1, keepdim=True)
    return torch.exp(log_prior.clamp(min=LOG_PRIOR_FLOOR))


def snippet_labels(
    cosines, attention, cluster_foreground, *, prior_sigma, labeling, n_iter=SINKHORN_ITERATIONS
):
    """SCC pseudo-labels Q^S (N, K), one distribution per snippet (Eq. 12; Table 5 variants)."""
    n_snippets, n_clusters = cosines.shape
    if labeling == "argmax":
        return F.one_hot(cosines.argmax(dim=1), n_clusters).to(cosines.dtype)
    prior = None if prior_sigma is None else rank_prior(attention, cluster_foreground, prior_sigma)
    labels = n_snippets * sinkhorn(cosines, prior=prior, eps=SINKHORN_EPS, n_iter=n_iter)
    if labeling == "ot_hard":
        return F.one_hot(labels.argmax(dim=1), n_clusters).to(cosines.dtype)
    return labels


def cluster_cosines(embeddings, labels, foreground):
    """Eq. 4-5: cosines (streams, K, 2) of cluster prototypes to F&B prototypes."""
    fb_labels = torch.stack([foreground, 1 - foreground], dim=1)
    cluster_prototypes = F.normalize(torch.einsum("nk,nsh->skh", labels, embeddings), dim=-1)
    fb_prototypes = F.normalize(torch.einsum("nj,nsh->sjh", fb_labels, embeddings), dim=-1)
    return cluster_prototypes @ fb_prototypes.transpose(1, 2)


def cluster_labels(cosines, foreground, n_iter=SINKHORN_ITERATIONS):
    """CCC pseudo-labels Q^C (K, 2): one unit per cluster, F&B marginal beta of Eq. 13."""
    n_clusters = len(cosines)
    beta = torch.stack([foreground.mean(), 1 - foreground.mean()])
    return n_clusters * sinkhorn(cosines, col_marginal=beta, eps=SINKHORN_EPS, n_iter=n_iter)


@torch.no_grad()
def record_cluster_foreground(outputs, foreground):
    """Add one training step's cluster foreground probabilities to the head's buffers.

    ``foreground`` is None for a batch without a foreground/background split. The step's
    probabilities are averaged over the processes (every process calls this once a step), so
    the prior and the epoch sum are the same on all of them.
    """
    step = outputs.foreground_sum.new_zeros(outputs.foreground_sum.shape)
    if foreground is not None:
        step[:-1], step[-1] = foreground, 1
    sum_over_processes(step)
    if step[-1] > 0:
        outputs.prior_foreground.copy_(step[:-1] / step[-1])
        outputs.foreground_sum.add_(step)
