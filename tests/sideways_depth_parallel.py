"""Sideways gradients of a small Skip-Sideways network over one clip, in one process or depth-parallel over the
processes of `python -m torch.distributed.run --nproc_per_node 2` (gloo, CPU): each process runs a share of the units
and writes the gradients of its parameters to OUT/grads-<rank>.pt (OUT/grads-single.pt in one process).

    python tests/sideways_depth_parallel.py OUT
    python -m torch.distributed.run --nproc_per_node 2 tests/sideways_depth_parallel.py OUT
"""

from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F

from hfvid.backbones.framewise import FRAMEWISE_PRESETS, DepthParallelExchange, sideways_gradients
from hfvid.backbones.registry import build_backbone

SPLITS = [0, 2]  # process 0: the stem and the first block; process 1: the other three blocks and the classifier


def main(out: str) -> None:
    torch.manual_seed(0)
    backbone = build_backbone({**FRAMEWISE_PRESETS["framewise_tiny"], "layers": [2, 2], "widths": [4, 8], "stem_width": 4,
                               "temporal_skips": True}).double()  # fmt: skip
    head = torch.nn.Linear(8, 3).double()
    clip, target = torch.randn(2, 12, 3, 16, 16, dtype=torch.float64), torch.tensor([0, 2])

    def top_loss(top, step):
        return F.cross_entropy(head(top.mean(dim=(2, 3))), target)

    named = {f"backbone.{name}": p for name, p in backbone.named_parameters()} | {f"head.{name}": p for name, p in head.named_parameters()}
    if "WORLD_SIZE" in os.environ:
        torch.distributed.init_process_group("gloo")
        exchange = DepthParallelExchange(backbone, SPLITS)
        mine = {name: p for name, p in named.items()
                if name.startswith("head.") and exchange.units[-1] == len(backbone.units) - 1
                or name.startswith("backbone.units.") and int(name.split(".")[2]) in exchange.units}  # fmt: skip
        tag = str(exchange.rank)
    else:
        exchange, mine, tag = None, named, "single"
    total, counted, grads = sideways_gradients(backbone, clip, top_loss, list(mine.values()), exchange=exchange)
    torch.save({"grads": dict(zip(mine, grads)), "loss": total, "counted": counted}, os.path.join(out, f"grads-{tag}.pt"))
    if exchange is not None:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
