"""Contrastive and negative-free embedding losses: InfoNCE (MoCo), NT-Xent (SimCLR / CVRL), RINCE and
SimSiam / BYOL's negative cosine similarity.

Losses that take embeddings L2-normalise them first, so callers may pass raw projections.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

RINCE_VARIANTS = ("in", "out", "out-in")


def info_nce_loss(
    query: torch.Tensor,
    positive_key: torch.Tensor,
    negative_keys: torch.Tensor,
    temperature: float,
    own_negatives: torch.Tensor | None = None,
) -> torch.Tensor:
    """MoCo's InfoNCE: classify each query's own key (Q, D) against a shared set of negatives (K, D) and, if
    given, negatives of its own (Q, M, D) (e.g. its key clip played backwards).

    ``logits = [q . k+, q . own_1 .. own_M, q . k-_1 .. k-_K] / temperature`` with target 0. Gradients reach every
    input, so detach the keys when they come from a momentum encoder. Without any negative the loss is 0.
    """
    if query.ndim != 2 or positive_key.shape != query.shape:
        raise ValueError(
            f"query and positive_key must both be (Q, D), got {tuple(query.shape)} and {tuple(positive_key.shape)}"
        )
    if negative_keys.ndim != 2 or negative_keys.shape[1] != query.shape[1]:
        raise ValueError(f"negative_keys must be (K, {query.shape[1]}), got {tuple(negative_keys.shape)}")
    query = F.normalize(query, dim=1)
    positive_logits = (query * F.normalize(positive_key, dim=1)).sum(dim=1, keepdim=True)
    negative_logits = query @ F.normalize(negative_keys, dim=1).T
    if own_negatives is not None:
        if own_negatives.ndim != 3 or own_negatives.shape[0] != query.shape[0] or own_negatives.shape[2] != query.shape[1]:
            raise ValueError(f"own_negatives must be (Q, M, {query.shape[1]}), got {tuple(own_negatives.shape)}")
        own_logits = torch.einsum("qd,qmd->qm", query, F.normalize(own_negatives, dim=2))
        negative_logits = torch.cat([own_logits, negative_logits], dim=1)
    logits = torch.cat([positive_logits, negative_logits], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(query), dtype=torch.long, device=query.device))


def nt_xent_loss(
    view_a: torch.Tensor,
    view_b: torch.Tensor,
    temperature: float,
    all_view_a: torch.Tensor | None = None,
    all_view_b: torch.Tensor | None = None,
    offset: int = 0,
    own_negatives: torch.Tensor | None = None,
) -> torch.Tensor:
    """SimCLR / CVRL's NT-Xent over the global batch, averaged over this process's 2N anchors; ``own_negatives``
    (2N, K, D), if given, are extra negatives of each anchor alone (anchors in order: view_a rows, then view_b).

    Anchors are the local embeddings (``view_a`` rows, then ``view_b`` rows, each (N, D)); candidates are
    the 2M embeddings of the global batch ``all_view_a`` / ``all_view_b`` (M, D), by default the local ones.
    The local samples must sit at rows ``offset .. offset + N`` of ``all_view_*`` (rank * N after an
    all_gather). Each anchor's positive is the other view of its sample, the anchor itself is left out and
    the other 2M - 2 candidates are negatives, so splitting a batch evenly over processes and averaging
    their losses gives the full-batch loss.
    """
    if (all_view_a is None) != (all_view_b is None):
        raise ValueError("pass both all_view_a and all_view_b, or neither")
    if all_view_a is None:
        all_view_a, all_view_b = view_a, view_b
    if view_a.ndim != 2 or view_b.shape != view_a.shape:
        raise ValueError(f"view_a and view_b must both be (N, D), got {tuple(view_a.shape)} and {tuple(view_b.shape)}")
    if all_view_a.ndim != 2 or all_view_b.shape != all_view_a.shape or all_view_a.shape[1] != view_a.shape[1]:
        raise ValueError(
            f"all_view_a and all_view_b must both be (M, {view_a.shape[1]}), "
            f"got {tuple(all_view_a.shape)} and {tuple(all_view_b.shape)}"
        )
    num_local, num_all = len(view_a), len(all_view_a)
    if not 0 <= offset <= num_all - num_local:
        raise ValueError(f"offset {offset} does not place {num_local} local samples inside {num_all}")
    anchors = F.normalize(torch.cat([view_a, view_b]), dim=1)
    candidates = F.normalize(torch.cat([all_view_a, all_view_b]), dim=1)
    logits = anchors @ candidates.T / temperature  # (2N, 2M)
    local = torch.arange(offset, offset + num_local, device=logits.device)
    self_columns = torch.cat([local, local + num_all])
    positive_columns = torch.cat([local + num_all, local])
    is_self = torch.zeros_like(logits, dtype=torch.bool)
    is_self[torch.arange(2 * num_local, device=logits.device), self_columns] = True
    logits = logits.masked_fill(is_self, float("-inf"))
    if own_negatives is not None:
        if own_negatives.ndim != 3 or own_negatives.shape[0] != len(anchors) or own_negatives.shape[2] != anchors.shape[1]:
            raise ValueError(f"own_negatives must be ({len(anchors)}, K, {anchors.shape[1]}), got {tuple(own_negatives.shape)}")
        own_logits = torch.einsum("nd,nkd->nk", anchors, F.normalize(own_negatives, dim=2)) / temperature
        logits = torch.cat([logits, own_logits], dim=1)
    return F.cross_entropy(logits, positive_columns)


def rank_temperatures(
    rank_similarities: torch.Tensor | Sequence[float], tau_min: float = 0.1, tau_max: float = 0.6
) -> torch.Tensor:
    """RINCE's per-rank temperatures ``tau_i = tau_min + (1 - sim_i) * (tau_max - tau_min)``, shape (R,).

    ``sim_i`` is the similarity a rank stands for, fixed in advance, not a measured embedding similarity:
    the official code uses 1.0 for the same class and 0.75 for the next rank (1 - 0.25 * class distance).
    Rank 1 (sim 1) gets the sharpest temperature ``tau_min``; less similar ranks get softer ones, so their
    positives are pulled in less tightly.
    """
    similarities = torch.as_tensor(rank_similarities, dtype=torch.get_default_dtype())
    if similarities.ndim != 1:
        raise ValueError(f"rank_similarities must be 1-D (one per rank), got shape {tuple(similarities.shape)}")
    return tau_min + (1 - similarities) * (tau_max - tau_min)


def rince_loss(
    similarities: torch.Tensor,
    ranks: torch.Tensor,
    temperatures: torch.Tensor | Sequence[float],
    variant: str = "out",
) -> torch.Tensor:
    """RINCE (ranking InfoNCE) on a (Q, K) matrix of cosine similarities (used as given, not normalised).

    ``ranks`` (Q, K): 0 = negative, 1..R = positive of that rank (1 = most similar), -1 = ignored (e.g. the
    anchor itself). For rank i, with temperature ``temperatures[i - 1]``: positives P_i are the entries of
    rank i, negatives N_i those of rank 0 or rank > i; entries of rank < i are neither, so a more similar
    positive is never pushed away to make room for a less similar one. Per rank i:

    - "in": -log(sum_P e^{s/tau} / (sum_P e^{s/tau} + sum_N e^{s/tau})), averaged over the rows with a
      rank-i positive;
    - "out": -log(e^{s_p/tau} / (e^{s_p/tau} + sum_N e^{s/tau})), averaged over all rank-i positives of all
      rows together (as the official code does; a row with more positives weighs more);
    - "out-in": "out" for rank 1, "in" for the lower ranks.

    The loss is the mean of the R rank terms, a rank without any positive contributing 0 (as in the
    official code). Rows without negatives are fine; if there is no positive at all the loss is 0.
    """
    if variant not in RINCE_VARIANTS:
        raise ValueError(f"variant must be one of {RINCE_VARIANTS}, got {variant!r}")
    if similarities.ndim != 2 or ranks.shape != similarities.shape:
        raise ValueError(
            f"similarities and ranks must both be (Q, K), got {tuple(similarities.shape)} and {tuple(ranks.shape)}"
        )
    if ranks.is_floating_point() or ranks.dtype == torch.bool:
        raise ValueError(f"ranks must be an integer tensor, got {ranks.dtype}")
    temperatures = torch.as_tensor(temperatures, dtype=similarities.dtype, device=similarities.device)
    num_ranks = temperatures.numel()
    if temperatures.ndim != 1 or num_ranks == 0:
        raise ValueError(f"temperatures must be 1-D with one entry per rank, got shape {tuple(temperatures.shape)}")
    if ranks.numel() and (ranks.min() < -1 or ranks.max() > num_ranks):
        raise ValueError(
            f"ranks must lie in -1..{num_ranks} (len(temperatures)), got {ranks.min().item()}..{ranks.max().item()}"
        )
    total = similarities.sum() * 0  # keeps the graph when no rank has a positive
    for rank in range(1, num_ranks + 1):
        rows = (ranks == rank).any(dim=1)
        if not rows.any():
            continue
        logits = similarities[rows] / temperatures[rank - 1]
        row_ranks = ranks[rows]
        positive = row_ranks == rank
        negative = (row_ranks == 0) | (row_ranks > rank)
        negative_lse = logits.masked_fill(~negative, float("-inf")).logsumexp(dim=1)  # -inf for rows without any
        if variant == "in" or (variant == "out-in" and rank > 1):
            positive_lse = logits.masked_fill(~positive, float("-inf")).logsumexp(dim=1)
            total = total + (torch.logaddexp(positive_lse, negative_lse) - positive_lse).mean()
        else:
            per_entry = torch.logaddexp(logits, negative_lse.unsqueeze(1)) - logits
            total = total + per_entry[positive].mean()
    return total / num_ranks


def negative_cosine_similarity(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SimSiam's D(p, z) = -cos(p, stopgrad(z)), averaged over rows of (B, D) inputs.

    The target is detached here, the stop-gradient that keeps SimSiam from collapsing. BYOL's loss
    ``||p/|p| - z/|z|||^2 = 2 - 2 cos`` equals ``2 + 2 * D``, so it has the same gradients up to a factor 2.
    """
    if prediction.ndim != 2 or target.shape != prediction.shape:
        raise ValueError(
            f"prediction and target must both be (B, D), got {tuple(prediction.shape)} and {tuple(target.shape)}"
        )
    cosine = (F.normalize(prediction, dim=1) * F.normalize(target.detach(), dim=1)).sum(dim=1)
    return -cosine.mean()
