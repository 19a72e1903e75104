"""Contrastive feature prediction: a prediction must pick its own target among the targets of the (global) batch.

Used by BFP (bidirectional feature prediction), whose targets are order-sensitive embeddings of (past, future)
blocks and whose hard negatives are the same blocks in swapped order.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def feature_prediction_loss(
    predictions: torch.Tensor,
    all_targets: torch.Tensor,
    temperature: float,
    offset: int = 0,
    all_swapped_targets: torch.Tensor | None = None,
) -> torch.Tensor:
    """InfoNCE of predictions (N, D) over the targets of the global batch (M, D).

    Prediction ``i`` sits at global row ``offset + i``; its positive is ``all_targets[offset + i]`` and every
    other target is a negative. With ``all_swapped_targets`` (M, D), every swapped target of the global batch
    is a negative too, among them the prediction's own swapped target (BFP's temporal hard negative: the same
    video's blocks in the wrong order). Cosine similarities divided by ``temperature``; averaged over the N
    local predictions, so the processes of an evenly split batch average to the full-batch loss.
    """
    if predictions.ndim != 2 or all_targets.ndim != 2 or all_targets.shape[1] != predictions.shape[1]:
        raise ValueError(
            f"predictions must be (N, D) and all_targets (M, D), got {tuple(predictions.shape)} and {tuple(all_targets.shape)}"
        )
    if all_swapped_targets is not None and all_swapped_targets.shape != all_targets.shape:
        raise ValueError(
            f"all_swapped_targets must match all_targets {tuple(all_targets.shape)}, got {tuple(all_swapped_targets.shape)}"
        )
    if not 0 <= offset <= len(all_targets) - len(predictions):
        raise ValueError(f"offset {offset} does not place {len(predictions)} predictions inside {len(all_targets)} targets")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    candidates = all_targets if all_swapped_targets is None else torch.cat([all_targets, all_swapped_targets])
    logits = F.normalize(predictions, dim=1) @ F.normalize(candidates, dim=1).T / temperature
    positives = torch.arange(offset, offset + len(predictions), device=logits.device)
    return F.cross_entropy(logits, positives)
