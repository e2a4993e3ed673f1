"""The CoFInAI head: clip embedding, TFM, GPM, grade classifier and FGS (Eq. 6-14)."""

# SPDX-License-Identifier: BSD-3-Clause

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._model import split_padding

__all__ = []


class CoFInAIHead(nn.Module):
    """Clip embedding -> TFM -> GPM -> grade classifier and FGS -> expected score.

    Returns ``(unit_score, grade_proba, subgrade_proba, grade_logits, subgrade_cosines)`` and,
    in training mode, also the grade prototypes (for the graph regulariser) and the TFM
    attention weights (for the query diversity term), each None when its module is ablated.
    The score is rescaled to [0, 1] over the score range; without FGS the sub-grade tensors
    have no columns.
    """

    def __init__(
        self,
        n_features,
        *,
        n_grades,
        n_procedures,
        d_procedure,
        d_score,
        dropout,
        clip_crop,
        temporal_fusion,
        grade_parsing,
        subgrade_prototypes,
        subgrade_scale,
    ):
        super().__init__()
        self.clip_crop = clip_crop
        self.subgrade_scale = subgrade_scale
        self.embedding = nn.Sequential(
            nn.Linear(n_features, d_procedure),
            nn.LayerNorm(d_procedure),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.fusion = ProcedureAttention(d_procedure, n_procedures) if temporal_fusion else None
        self.parsing = (
            GradeParsing(d_procedure, d_score, n_grades)
            if grade_parsing
            else PooledProjection(d_procedure, d_score)
        )
        n_rows = n_grades if grade_parsing else 1
        self.grade_classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_rows * d_score, d_score),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(d_score, n_grades),
        )
        if subgrade_prototypes is None:
            subgrade_prototypes = torch.empty(0, d_score)
        self.register_buffer("subgrade_prototypes", subgrade_prototypes)

    def forward(self, inputs):
        clips, mask = split_padding(inputs)
        if self.training and self.clip_crop is not None:
            clips, mask = random_crop(clips, mask, self.clip_crop)
        coarse, fine, attention = self._grade_features(clips, mask)
        grade_logits = self.grade_classifier(coarse)
        grade_proba = grade_logits.softmax(dim=1)
        subgrade_cosines = F.normalize(fine, dim=1) @ self.subgrade_prototypes.T
        subgrade_proba = (self.subgrade_scale * subgrade_cosines).softmax(dim=1)
        unit_score = expected_unit_score(grade_proba, subgrade_proba)
        outputs = (unit_score, grade_proba, subgrade_proba, grade_logits, subgrade_cosines)
        if self.training:
            prototypes = getattr(self.parsing, "prototypes", None)
            return (*outputs, prototypes, attention)
        return outputs

    def embed(self, inputs):
        """``(B, D_S)`` fine grade feature h_F of each video, which FGS scores (Eq. 11-14)."""
        return self._grade_features(*split_padding(inputs))[1]

    def procedure_attention(self, inputs):
        """``(B, P, T)`` attention of each TFM procedure query over the clips."""
        clips, mask = split_padding(inputs)
        return self.fusion.weights(self.embedding(clips), mask)

    def _grade_features(self, clips, mask):
        """Coarse and fine grade features (Eq. 9-11) and TFM's attention (None without TFM)."""
        tokens = self.embedding(clips)
        attention = None
        if self.fusion is not None:
            (tokens, attention), mask = self.fusion(tokens, mask), None
        coarse, fine = self.parsing(tokens, mask)
        return coarse, fine, attention


def expected_unit_score(grade_proba, subgrade_proba):
    """Expected score rescaled to [0, 1]: E[grade] plus the expected sub-grade's centre.

    Without sub-grades (no columns) the centre of the expected grade.
    """
    n_grades, n_subgrades = grade_proba.shape[1], subgrade_proba.shape[1]
    grade = grade_proba @ torch.arange(n_grades, dtype=grade_proba.dtype, device=grade_proba.device)
    if n_subgrades == 0:
        return (grade + 0.5) / n_grades
    levels = torch.arange(n_subgrades, dtype=subgrade_proba.dtype, device=subgrade_proba.device)
    return (grade + (subgrade_proba @ levels + 0.5) / n_subgrades) / n_grades


def random_crop(clips, mask, length):
    """A random run of ``length`` consecutive real clips per video (all of a shorter one)."""
    n_real = mask.sum(dim=1)
    length = min(length, clips.shape[1])
    starts = torch.rand(len(clips), device=clips.device) * (n_real - length + 1).clamp(min=1)
    positions = starts.long().unsqueeze(1) + torch.arange(length, device=clips.device)
    kept = positions < n_real.unsqueeze(1)
    positions = positions.clamp(max=clips.shape[1] - 1)
    cropped = clips.gather(1, positions.unsqueeze(2).expand(-1, -1, clips.shape[2]))
    return cropped * kept.unsqueeze(2), kept


class ProcedureAttention(nn.Module):
    """TFM (Eq. 7): P procedure queries, the clip average of per-clip queries, attend to clips.

    The average of the linear per-clip queries equals the linear map of the average clip, which
    is what is computed.
    """

    def __init__(self, dim, n_procedures):
        super().__init__()
        self.n_procedures = n_procedures
        self.query = nn.Linear(dim, n_procedures * dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)

    def forward(self, clips, mask):
        """Procedure features ``(B, P, D)`` and the attention weights ``(B, P, T)``."""
        weights = self.weights(clips, mask)
        return weights @ self.value(clips), weights

    def weights(self, clips, mask):
        """``(B, P, T)`` attention of each procedure query over the clips."""
        queries = self.query(_masked_mean(clips, mask)).unflatten(1, (self.n_procedures, -1))
        return _attention_weights(queries, self.key(clips), mask)


class GradeParsing(nn.Module):
    """GPM (Eq. 9-11): grade prototypes query the tokens; coarse and fine grade features."""

    def __init__(self, d_procedure, d_score, n_grades):
        super().__init__()
        self.prototypes = nn.Parameter(torch.randn(n_grades, d_procedure))
        self.query = nn.Linear(d_procedure, d_score)
        self.key = nn.Linear(d_procedure, d_score)
        self.value = nn.Linear(d_procedure, d_score)

    def forward(self, tokens, mask):
        queries = self.query(self.prototypes).expand(len(tokens), -1, -1)
        coarse = _attention_weights(queries, self.key(tokens), mask) @ self.value(tokens)
        weights = coarse.mean(dim=2, keepdim=True).softmax(dim=1)
        fine = (weights * (coarse - queries)).mean(dim=1)
        return coarse, fine


class PooledProjection(nn.Module):
    """Stand-in for GPM in the "w/o GPM" ablation: projections of the mean token."""

    def __init__(self, d_procedure, d_score):
        super().__init__()
        self.coarse = nn.Linear(d_procedure, d_score)
        self.fine = nn.Linear(d_procedure, d_score)

    def forward(self, tokens, mask):
        pooled = _masked_mean(tokens, mask)
        return self.coarse(pooled).unsqueeze(1), self.fine(pooled)


def _attention_weights(queries, keys, mask):
    """Scaled dot-product attention weights ``(B, Q, T)`` of queries over keys.

    ``mask`` (B, T) marks the real steps; None means all are real.
    """
    logits = queries @ keys.transpose(1, 2) / math.sqrt(keys.shape[2])
    if mask is not None:
        logits = logits.masked_fill(~mask.unsqueeze(1), float("-inf"))
    return logits.softmax(dim=2)


def _masked_mean(tokens, mask):
    if mask is None:
        return tokens.mean(dim=1)
    weights = mask.unsqueeze(2).to(tokens.dtype)
    return (tokens * weights).sum(dim=1) / weights.sum(dim=1)
