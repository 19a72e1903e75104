"""The momentum (EMA) encoder and the key queue of MoCo-style methods (MoCo, RINCE; BYOL's target)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init


class MomentumEncoder(nn.Module):
    """Exponential-moving-average copies of some online modules, without gradients.

    ``MomentumEncoder(backbone=b, projector=p)`` holds copies reachable as ``encoder["backbone"]``. The first
    `update` copies the online weights (so fresh models start equal, whatever initialisation ran after
    construction); later ones move each copy towards its online module:
    ``copy = momentum * copy + (1 - momentum) * online``, parameters only (BatchNorm statistics of the
    copies follow their own forward passes, as in MoCo). Methods call `start` in every training forward (it
    copies only once) and `update` once per optimiser step, from their ``after_optimizer_step`` hook.
    """

    def __init__(self, **online: nn.Module):
        super().__init__()
        self.copies = nn.ModuleDict(
            {name: copy.deepcopy(module).requires_grad_(False) for name, module in online.items()}
        )
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def __getitem__(self, name: str) -> nn.Module:
        return self.copies[name]

    def init_state(self) -> None:
        """Mark the copies as never updated: the next `start` or `update` copies the online weights."""
        init.zeros_(self.num_updates)

    @torch.no_grad()
    def start(self, **online: nn.Module) -> None:
        """Copy the online weights if the copies were never updated (a fresh or re-initialised model)."""
        if int(self.num_updates) == 0:
            self.update(0.0, **online)

    @torch.no_grad()
    def update(self, momentum: float, **online: nn.Module) -> None:
        """Move the copies towards ``online`` (the same names as at construction)."""
        if sorted(online) != sorted(self.copies):
            raise ValueError(f"update needs the modules {sorted(self.copies)}, got {sorted(online)}")
        first = int(self.num_updates) == 0
        for name, module in online.items():
            target = self.copies[name]
            for online_param, target_param in zip(module.parameters(), target.parameters()):
                target_param.lerp_(online_param.detach(), 1.0 if first else 1.0 - momentum)
            if first:
                for online_buffer, target_buffer in zip(module.buffers(), target.buffers()):
                    target_buffer.copy_(online_buffer)
        self.num_updates += 1


class MomentumClipEncoder(MomentumEncoder):
    """Momentum copy of a video backbone and its projector: clips -> L2-normalised embeddings, without
    gradients (MoCo's and RINCE's keys, BYOL's targets)."""

    def __init__(self, backbone: nn.Module, projector: nn.Module):
        super().__init__(backbone=backbone, projector=projector)

    @torch.no_grad()
    def forward(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        """(n, frames, C, H, W) -> (n, projection_dim)."""
        pooled = self.copies["backbone"](pixel_values_videos).pooler_output
        return F.normalize(self.copies["projector"](pooled), dim=1)


class KeyQueue(nn.Module):
    """First-in-first-out memory of the latest ``size`` keys and the video id of each (RINCE needs the ids to
    know which stored keys show the same video). Only filled slots are returned. The buffers are part of
    the state dict, so a resumed run continues with the same queue.

    A training forward `stage`s its keys; the method's ``after_optimizer_step`` hook `push`es them with
    `push_staged`, so the queue grows once per optimiser step whatever the gradient accumulation, and the
    micro-batches of one step do not see each other's keys (as one large batch would not)."""

    def __init__(self, size: int, dim: int):
        super().__init__()
        if size < 0:
            raise ValueError(f"queue size must be >= 0, got {size}")
        self.register_buffer("keys", torch.zeros(size, dim))
        self.register_buffer("video_ids", torch.full((size,), -1, dtype=torch.long))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))
        self.register_buffer("length", torch.zeros((), dtype=torch.long))
        self._staged: list[tuple[torch.Tensor, torch.Tensor]] = []

    def init_state(self) -> None:
        """Empty the queue."""
        init.zeros_(self.keys)
        init.constant_(self.video_ids, -1)
        init.zeros_(self.pointer)
        init.zeros_(self.length)
        self._staged = []

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(keys (length, dim), video ids (length,)) of the filled slots."""
        length = int(self.length)
        return self.keys[:length], self.video_ids[:length]

    @torch.no_grad()
    def push(self, keys: torch.Tensor, video_ids: torch.Tensor) -> None:
        """Store ``keys`` (n, dim) and their ``video_ids`` (n,), overwriting the oldest when full."""
        size = len(self.keys)
        if size == 0:
            return
        keys, video_ids = keys[-size:], video_ids[-size:]
        slots = (int(self.pointer) + torch.arange(len(keys), device=keys.device)) % size
        self.keys[slots] = keys.to(self.keys.dtype)
        self.video_ids[slots] = video_ids.to(self.video_ids.device)
        self.pointer.copy_((self.pointer + len(keys)) % size)
        self.length.copy_(torch.clamp(self.length + len(keys), max=size))

    @torch.no_grad()
    def stage(self, keys: torch.Tensor, video_ids: torch.Tensor) -> None:
        """Hold ``keys`` and ``video_ids`` until `push_staged` (at most the queue's size: older ones are dropped)."""
        self._staged.append((keys.detach(), video_ids.detach()))
        while len(self._staged) > 1 and sum(len(k) for k, _ in self._staged[1:]) >= len(self.keys):
            self._staged.pop(0)

    @torch.no_grad()
    def push_staged(self) -> None:
        """Push the staged keys, oldest first, and forget them."""
        for keys, video_ids in self._staged:
            self.push(keys, video_ids)
        self._staged = []
