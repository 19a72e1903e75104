"""What every hfvid video backbone is: the protocol that models, cards and the registry rely on.

A backbone is an ``nn.Module`` built from a plain, JSON-able config dict (stored in the model's config as
``config.backbone``); ``config["arch"]`` names its class in `hfvid.backbones.registry`. It takes videos in
transformers' layout, (batch, frames, channels, height, width), and returns a `VideoBackboneOutput`. This file
imports only torch, transformers and the standard library: it is copied into saved model folders as remote code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers.utils import ModelOutput


@dataclass
class VideoBackboneOutput(ModelOutput):
    """last_hidden_state: the last feature map (batch, num_features, ...) or tokens (batch, tokens, num_features);
    pooler_output: one vector per video (batch, num_features); hidden_states: with ``output_hidden_states``, the
    stem's (embeddings') output and every stage's (block's); attentions: with ``output_attentions``, every
    attention layer's weights (None for backbones without attention)."""

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


def frame_differences(pixel_values_videos: torch.Tensor, multiple: int = 1) -> torch.Tensor:
    """The T - 1 differences x[t + 1] - x[t] of a (batch, T, ...) clip (a backbone's ``input="frame_difference"``),
    the last one repeated up to a multiple of ``multiple`` (a ViT's tubelet size: 8 frames -> 7 differences + 1
    repeat -> 4 tubelets of 2, so a clip keeps the token grid, position table and token-drop counts of RGB input).
    ValueError for a clip of fewer than 2 frames."""
    frames = pixel_values_videos.shape[1]
    if frames < 2:
        raise ValueError(f"input 'frame_difference' needs clips of at least 2 frames, got {frames}")
    differences = pixel_values_videos[:, 1:] - pixel_values_videos[:, :-1]
    missing = -(frames - 1) % multiple
    if not missing:
        return differences
    return torch.cat([differences, differences[:, -1:].expand(-1, missing, *differences.shape[2:])], dim=1)


def given_config(name_or_dict: str | dict[str, Any], presets: dict[str, dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """A copy of the preset ``name_or_dict`` names, or of the dict it is, with ``overrides`` applied (not yet
    completed or validated); ``ValueError`` for an unknown name or another type."""
    if isinstance(name_or_dict, str):
        if name_or_dict not in presets:
            raise ValueError(f"unknown backbone {name_or_dict!r}; valid names: {sorted(presets)}")
        given = dict(presets[name_or_dict])
    elif isinstance(name_or_dict, dict):
        given = dict(name_or_dict)
    else:
        raise ValueError(f"expected a backbone name or config dict, got {type(name_or_dict).__name__}")
    given.update(overrides)
    return given


class VideoBackbone(nn.Module):
    """Base of hfvid's backbones. A subclass sets ``ARCHS`` (the ``arch`` values it builds) and ``PRESETS``
    (preset name -> config), implements `complete_config`, `forward`, `init_module` and `describe`, and sets
    ``self.config`` (complete), ``self.num_features`` and ``self.hidden_sizes`` (the feature size of each entry of
    ``hidden_states``) in ``__init__``. Blocks that subclass transformers'
    ``GradientCheckpointingLayer`` make ``model.gradient_checkpointing_enable()`` work; say so with
    ``supports_gradient_checkpointing``."""

    ARCHS: tuple[str, ...] = ()
    PRESETS: dict[str, dict[str, Any]] = {}
    supports_gradient_checkpointing = False
    config: dict[str, Any]
    num_features: int
    hidden_sizes: tuple[int, ...]

    @classmethod
    def complete_config(cls, given: dict[str, Any]) -> dict[str, Any]:
        """A (possibly partial) config dict of one of ``ARCHS`` -> the complete, validated config; raises
        ``ValueError`` naming the bad key or value."""
        raise NotImplementedError

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        attn_implementation: str | None = None,
    ) -> VideoBackboneOutput:
        """(batch, frames, channels, height, width) float -> `VideoBackboneOutput`. ``attn_implementation`` is the
        model config's ``_attn_implementation`` ("eager", "sdpa"; None: the backbone's choice), for backbones with
        attention."""
        raise NotImplementedError

    def feature_map(self, last_hidden_state: torch.Tensor, clip_shape: tuple[int, ...]) -> torch.Tensor:
        """This backbone's ``last_hidden_state`` for clips of ``clip_shape`` (frames, channels, height, width) as a
        space-time feature map (batch, hidden, t, h, w), for methods that need to know where features are. By
        default ``last_hidden_state`` must already be one (a CNN's last stage)."""
        if last_hidden_state.ndim != 5:
            raise ValueError(
                f"{type(self).__name__} gives no (batch, hidden, t, h, w) feature map: its last_hidden_state is "
                f"{tuple(last_hidden_state.shape)}"
            )
        return last_hidden_state

    def training_progress(self, step: int, total_steps: int | None) -> None:
        """Called once per optimiser step through the model's ``after_optimizer_step`` (``step`` optimiser steps
        taken out of ``total_steps``), for schedules inside the backbone; nothing by default."""

    @classmethod
    def init_module(cls, module: nn.Module) -> bool:
        """Initialise one of this backbone's submodules (without recursing) with
        ``transformers.initialization`` functions; returns False for module types it leaves to the model."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for model cards, e.g. 'R3D, 4 stages of [1, 1, 1, 1] blocks, widths [8, 16, 32, 64]'."""
        raise NotImplementedError
