"""Gathering tensors across processes, so a loss over the global batch is the same under DDP as in one
process. Without an initialised process group every function is the identity.

Processes may hold different numbers of rows (a short last batch, skipped videos): rows are padded
to the largest count for the collective and trimmed afterwards.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _row_counts(tensor: torch.Tensor) -> list[int]:
    counts = [torch.zeros(1, dtype=torch.long, device=tensor.device) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, torch.tensor([len(tensor)], dtype=torch.long, device=tensor.device))
    return [int(count) for count in counts]


def _padded(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    padding = tensor.new_zeros((rows - len(tensor), *tensor.shape[1:]))
    return torch.cat([tensor, padding]).contiguous()


def gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Every process's rows concatenated in rank order; no gradient (e.g. MoCo keys for the queue)."""
    return gather_rows_with_grad(tensor.detach())[0].detach()


def gather_rows_with_grad(tensor: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(every process's rows concatenated in rank order, index of this process's first row).

    Gradients flow back to the process that owns each row and are summed over the processes that used
    it, so that with DDP's gradient averaging the update equals one process's on the whole batch.
    """
    if not is_distributed():
        return tensor, 0
    counts = _row_counts(tensor)
    padded = _padded(tensor, max(counts))
    if tensor.requires_grad:
        parts = dist_nn.all_gather(padded)
    else:
        parts = [torch.empty_like(padded) for _ in counts]
        dist.all_gather(parts, padded)
    gathered = torch.cat([part[:count] for part, count in zip(parts, counts)])
    return gathered, sum(counts[: dist.get_rank()])
