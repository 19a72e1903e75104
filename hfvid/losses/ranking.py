"""Losses on transformation score matrices (TransRank, TransCls and the RecogTrans baselines).

A score matrix ``scores`` has shape (B, N, N): for each of B videos, N clips, and for each clip one
score per transformation; clip ``i`` of a video carries transformation ``i``, so the diagonal holds
the scores of the true transformations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_square(scores: torch.Tensor) -> None:
    if scores.ndim != 3 or scores.shape[1] != scores.shape[2] or scores.shape[1] < 2:
        raise ValueError(f"scores must be (batch, N, N) with N >= 2, got {tuple(scores.shape)}")


def transformation_ranking_loss(scores: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """TransRank's column-wise margin ranking loss.

    For every transformation j, the clip that carries j must out-score each other clip of the
    same video on score j by ``margin``:
    ``L = mean_b mean_j mean_{i != j} max(0, margin - (S[b, j, j] - S[b, i, j]))``.
    Scores are compared only within a video, so the loss ignores how hard a video is overall.
    """
    _check_square(scores)
    num = scores.shape[1]
    true_scores = scores.diagonal(dim1=1, dim2=2).unsqueeze(1)  # (B, 1, N): S[j, j] for each column j
    hinge = F.relu(margin - (true_scores - scores))  # (B, N, N): entry (i, j) compares clip i with clip j on score j
    off_diagonal = ~torch.eye(num, dtype=torch.bool, device=scores.device)
    return hinge[:, off_diagonal].mean()


def transformation_cross_entropy(scores: torch.Tensor) -> torch.Tensor:
    """TransCls / RecogTrans: classify the transformation of each clip (row i has target i)."""
    _check_square(scores)
    batch, num, _ = scores.shape
    targets = torch.arange(num, device=scores.device).repeat(batch)
    return F.cross_entropy(scores.reshape(batch * num, num), targets)


def transformation_accuracy(scores: torch.Tensor, by_ranking: bool = True) -> torch.Tensor:
    """Whether each transformation of each video was recognised, (batch, N) of 0/1 (the mean over the batch is the
    per-transformation accuracy).

    ``by_ranking=True`` (TransRank's test): transformation j counts as recognised when clip j has
    the highest score j among the video's clips. ``False`` (classification): clip i counts when
    transformation i is its highest score.
    """
    _check_square(scores)
    num = scores.shape[1]
    predicted = scores.argmax(dim=1 if by_ranking else 2)
    return (predicted == torch.arange(num, device=scores.device)).float()
