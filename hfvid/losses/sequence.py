"""Frame-level sequence losses: CARL's sequence contrastive loss (Chen et al., "Frame-wise Action Representations for
Long Videos via Sequence Contrastive Learning", CVPR 2022), the objective of MV-Former (issue 19)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sequence_contrastive_loss(
    embeddings_a: torch.Tensor,
    embeddings_b: torch.Tensor,
    timestamps_a: torch.Tensor,
    timestamps_b: torch.Tensor,
    variance: float = 10.0,
    temperature: float = 0.1,
) -> torch.Tensor:
    """CARL's loss between two views of the same videos, symmetrised.

    embeddings_a (batch, Ta, dim), embeddings_b (batch, Tb, dim): per-frame embeddings of each view (L2-normalised
    here); timestamps_a (batch, Ta), timestamps_b (batch, Tb): where each frame sits in its video, in the units
    ``variance`` is given in (CARL samples frame indices; its config's variance is 10). For frame i of view a, the
    target over view b's frames is p_ij ∝ exp(-(s_i - t_j)^2 / (2 variance)), the prediction q_ij = softmax_j(cos(a_i,
    b_j) / temperature); the loss is KL(p_i || q_i), averaged over the frames of view a, and the same from view b to
    view a; the mean of both directions over the batch.
    """
    if embeddings_a.ndim != 3 or embeddings_b.ndim != 3 or embeddings_a.shape[0] != embeddings_b.shape[0]:
        raise ValueError(f"expected (batch, frames, dim) embeddings of one batch, got {tuple(embeddings_a.shape)} and {tuple(embeddings_b.shape)}")
    if timestamps_a.shape != embeddings_a.shape[:2] or timestamps_b.shape != embeddings_b.shape[:2]:
        raise ValueError(f"timestamps must be (batch, frames) like the embeddings, got {tuple(timestamps_a.shape)} and {tuple(timestamps_b.shape)}")
    a, b = F.normalize(embeddings_a, dim=-1), F.normalize(embeddings_b, dim=-1)

    def one_way(x, y, s, t):
        log_q = F.log_softmax(x @ y.transpose(1, 2) / temperature, dim=-1)
        log_p = F.log_softmax(-((s[:, :, None] - t[:, None, :]).float() ** 2) / (2 * variance), dim=-1)
        return (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()

    return 0.5 * (one_way(a, b, timestamps_a, timestamps_b) + one_way(b, a, timestamps_b, timestamps_a))
