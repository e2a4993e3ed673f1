"""The torch head of ClusterFBSeparator: two branches and a clustering head per stream."""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from .._model import EpochSteps, split_padding
from ._losses import COSINE_SCALE, TrainingOutputs, actionness, topk_mask, video_logits

__all__ = []


class ClusterFBHead(EpochSteps, nn.Module):
    """One two-branch head with a clustering head per stream, and the cluster labels.

    Buffers hold the clusters' foreground probabilities: ``prior_foreground`` (the last
    batch's, for the next prior), ``foreground_sum`` (their running sum over the epoch and
    the batch count) and ``cluster_foreground`` (the epoch average, used at test time), so
    they are saved, restored with the best epoch and moved between devices with the weights.
    """

    def __init__(self, n_features, n_classes, *, n_clusters, hidden_dim, n_streams, n_snippets):
        super().__init__()
        self.streams = nn.ModuleList(
            Stream(n_features // n_streams, n_classes, n_clusters, hidden_dim)
            for _ in range(n_streams)
        )
        self.n_snippets = n_snippets
        self.register_buffer("prior_foreground", torch.full((n_clusters,), 0.5))
        self.register_buffer("foreground_sum", torch.zeros(n_clusters + 1))
        self.register_buffer("cluster_foreground", torch.full((n_clusters,), 0.5))

    def forward(self, inputs):
        if self.training and self.n_snippets is not None:
            inputs = resample(inputs, self.n_snippets)
        inputs, mask = split_padding(inputs)
        parts = inputs.chunk(len(self.streams), dim=-1)
        outputs = [stream(part) for stream, part in zip(self.streams, parts, strict=True)]
        cas, attention, cosines, embeddings = (
            torch.stack(o, dim=1) for o in zip(*outputs, strict=True)
        )
        if self.training:
            return TrainingOutputs(
                cas, attention, cosines, mask, embeddings, self.prior_foreground,
                self.foreground_sum,
            )  # fmt: skip
        return cas, attention, cosines, mask

    def embed(self, inputs):
        """Snippet embeddings ``(B, T, n_streams * hidden_dim)`` and the ``(B, T)`` real mask.

        Each stream's embedding (what its attention and its clustering read), the streams'
        side by side in the order of their features.
        """
        inputs, mask = split_padding(inputs)
        parts = inputs.chunk(len(self.streams), dim=-1)
        embeddings = [
            stream.embedding(part) for stream, part in zip(self.streams, parts, strict=True)
        ]
        return torch.cat(embeddings, dim=-1), mask

    @torch.no_grad()
    def end_epoch(self):
        count = self.foreground_sum[-1]
        if count > 0:
            self.cluster_foreground.copy_(self.foreground_sum[:-1] / count)
        self.foreground_sum.zero_()


class Stream(nn.Module):
    """T-CAS, attention and cluster cosines of one stream (Table 9; 1x1 convolutions)."""

    def __init__(self, n_features, n_classes, n_clusters, hidden_dim):
        super().__init__()
        self.action = nn.Sequential(
            nn.Linear(n_features, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, n_classes)
        )
        self.embedding = nn.Sequential(nn.Linear(n_features, hidden_dim), nn.ReLU())
        self.attention = nn.Linear(hidden_dim, 1)
        self.centroids = nn.Linear(hidden_dim, n_clusters, bias=False)

    def forward(self, inputs):
        embeddings = self.embedding(inputs)
        attention = torch.sigmoid(self.attention(embeddings)).squeeze(-1)
        cosines = F.normalize(embeddings, dim=-1) @ F.normalize(self.centroids.weight, dim=1).T
        return self.action(inputs), attention, cosines, embeddings


def resample(inputs, n_snippets):
    """Draw ``n_snippets`` steps of each padded sequence, one uniformly within each equal bin."""
    lengths = (~torch.isnan(inputs[..., 0])).sum(dim=1, keepdim=True)
    offsets = torch.arange(n_snippets, device=inputs.device) + torch.rand(
        len(inputs), n_snippets, device=inputs.device
    )
    positions = torch.minimum((offsets * lengths / n_snippets).long(), lengths - 1)
    return inputs[torch.arange(len(inputs), device=inputs.device)[:, None], positions]


def test_time_scores(cas, attention, cosines, mask, cluster_foreground, fusion_weight, ratio):
    """Per-video outputs of one eval-mode batch: video scores, actionness, P^M and P^S."""
    cluster_proba = torch.softmax(COSINE_SCALE * cosines, dim=-1).mean(dim=1)
    foreground = attention.mean(dim=1)
    if fusion_weight > 0:
        clustered = cluster_proba @ cluster_foreground.to(cluster_proba.dtype)
        foreground = (1 - fusion_weight) * foreground + fusion_weight * clustered
    class_actionness = actionness(cas, foreground)
    logits = video_logits(cas, topk_mask(class_actionness, mask, ratio))
    video_proba = torch.softmax(logits.double(), dim=-1).mean(dim=1)
    lengths = mask.sum(dim=1).tolist()
    return (
        video_proba.numpy(),
        *(
            [values[:n].double().numpy() for values, n in zip(batch, lengths, strict=True)]
            for batch in (class_actionness, foreground, cluster_proba)
        ),
    )
