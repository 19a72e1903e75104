"""Small heads that sit on pooled backbone features."""

from __future__ import annotations

from torch import nn


class MLPHead(nn.Sequential):
    """Linear -> BatchNorm -> ReLU -> Linear; with ``hidden_dim=None`` a single Linear (an FC head).

    ``output_batch_norm`` appends a BatchNorm without affine parameters (SimSiam's projector ends so).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None, output_batch_norm: bool = False):
        if hidden_dim is None:
            layers = [nn.Linear(in_dim, out_dim)]
        else:
            layers = [
                nn.Linear(in_dim, hidden_dim, bias=False),
                nn.BatchNorm1d(hidden_dim),
                nn.ReLU(inplace=True),
                nn.Linear(hidden_dim, out_dim),
            ]
        if output_batch_norm:
            layers.append(nn.BatchNorm1d(out_dim, affine=False))
        super().__init__(*layers)
