"""Small heads that sit on pooled backbone features."""

from __future__ import annotations

from torch import nn


class MLPHead(nn.Sequential):
    """Linear -> BatchNorm -> ReLU -> Linear; with ``hidden_dim=None`` a single Linear (an FC head)."""

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None):
        if hidden_dim is None:
            super().__init__(nn.Linear(in_dim, out_dim))
        else:
            super().__init__(
                nn.Linear(in_dim, hidden_dim, bias=False),
                nn.BatchNorm1d(hidden_dim),
                nn.ReLU(inplace=True),
                nn.Linear(hidden_dim, out_dim),
            )
