"""A video Vision Transformer: tubelet patches, space-time attention, token dropping and the Eureka-moments
attention fixes. Registered for ``arch`` "vit" in `hfvid.backbones.registry`; presets ``vit_tiny`` (CPU tests),
``vit_s`` and ``vit_b``. This file imports only torch, transformers and the standard library: it is copied into
saved model folders as remote code.

- **Tokens.** A Conv3d cuts the clip into ``tubelet_size`` x ``patch_size`` x ``patch_size`` tubelets (as
  ViViT / VideoMAE). Position embeddings are ``"learned"`` (a spatial table for the preset's ``image_size`` and a
  temporal one for its ``num_frames``, added; both interpolated to other clip sizes) or ``"sinusoidal"``
  (VideoMAE's fixed 1-D table over the flattened tokens, made for any size). An optional CLS token. With
  ``input="frame_difference"`` the tubelets see the differences of consecutive frames (`hfvid.backbones.base.frame_differences`).
- **Blocks.** Pre-norm: x + attn(norm(x)), x + mlp(norm(x)), with optional LayerScale (DINOv2). Attention is
  ``"joint"`` over all space-time tokens, or ``"divided"`` (TimeSformer): attention over time at each position,
  then over space at each time, each with its own weights. SDPA where it applies (plain softmax, no attention
  weights asked for); gradient checkpointing per block.
- **Outputs.** ``last_hidden_state`` (batch, tokens, hidden) after the final norm (CLS first if used);
  ``pooler_output`` the mean of the patch tokens (``pooling="mean"``) or the CLS token; with
  ``final_norm="pooled"`` (VideoMAE's mean pooling) the tokens are left unnormalised and the pooled vector is
  normalised instead; per-block
  ``hidden_states`` (the embeddings and every block's output) and ``attentions`` (batch, heads, tokens, tokens;
  with divided attention each block's spatial attention, (batch x time, heads, space, space)).
- **Token dropping** (the video-first long-clip recipe): ``token_drop_ratio`` of the patch tokens are left out
  at the encoder input, ``"random"`` per sample or ``"tube"``-wise (the same spatial positions at every time,
  which divided attention needs), with no mask token and no decoder. Only in training mode, and only where the
  model enables it (`hfvid.models.modeling_utils`: the pre-training models); never at inference.
- **NormSoftmax** (Eureka moments, Hoffmann et al. 2023, arXiv 2310.12956). The logits A = QK^T are divided by
  min(sqrt(d_head), s) instead of sqrt(d_head), s computed per query row over the keys: ``"norm_softmax"`` as the
  official code's default (boschresearch/eurekaMoments, vit.py): s = the biased variance of the row (mean
  subtracted, no square root); ``"norm_softmax_std"``: s = the row's standard deviation (unbiased), the form
  the paper's text names.
- **Heat treatment** (same paper): the logits' scale is annealed from ``heat_start`` to ``heat_end`` with a
  half-cosine over the first ``heat_fraction`` of training, then stays at ``heat_end``. The values are the
  paper's for 64-dimensional heads (3.0 -> 0.125 = 1/sqrt(64)); for other head sizes they are multiplied by
  8 / sqrt(d_head), so the run ends at the standard 1/sqrt(d_head). The official code steps once per epoch; here
  `training_progress` (called once per optimiser step through the model's ``after_optimizer_step``) steps it per
  step. The current scale is a buffer, saved in checkpoints; evaluation mode uses the standard scale.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer

from hfvid.backbones.base import VideoBackbone, VideoBackboneOutput, frame_differences, given_config

_VIT_DEFAULTS: dict[str, Any] = {
    "arch": "vit",
    "in_channels": 3,
    "image_size": 224,
    "num_frames": 16,
    "patch_size": 16,
    "tubelet_size": 2,
    "hidden_size": 768,
    "depth": 12,
    "num_heads": 12,
    "mlp_ratio": 4.0,
    "qkv_bias": True,
    "layer_norm_eps": 1e-6,
    "layer_scale": None,
    "position_embedding": "learned",
    "cls_token": False,
    "pooling": "mean",
    "final_norm": "tokens",
    "final_norm_eps": None,
    "attention_type": "joint",
    "attention": "softmax",
    "heat_treatment": False,
    "heat_start": 3.0,
    "heat_end": 0.125,
    "heat_fraction": 0.5,
    "token_drop_ratio": 0.0,
    "token_drop": "random",
    "input": "rgb",
}
VIT_PRESETS: dict[str, dict[str, Any]] = {
    "vit_tiny": {"arch": "vit", "image_size": 32, "num_frames": 8, "patch_size": 8, "hidden_size": 64, "depth": 4, "num_heads": 4},
    "vit_s": {"arch": "vit", "hidden_size": 384, "depth": 12, "num_heads": 6},
    "vit_b": {"arch": "vit", "hidden_size": 768, "depth": 12, "num_heads": 12},
}  # fmt: skip
_CHOICES = {
    "position_embedding": ("learned", "sinusoidal"),
    "pooling": ("mean", "cls"),
    "final_norm": ("tokens", "pooled"),
    "attention_type": ("joint", "divided"),
    "attention": ("softmax", "norm_softmax", "norm_softmax_std"),
    "token_drop": ("random", "tube"),
    "input": ("rgb", "frame_difference"),
}


def vit_config(name_or_dict: str | dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A ViT preset name or (possibly partial) config dict -> the complete, validated config (missing keys from
    ViT-B's); ``ValueError`` naming the bad key or value."""
    given = given_config(name_or_dict, VIT_PRESETS, **overrides)
    config = {**_VIT_DEFAULTS, **given}
    unknown = sorted(set(config) - set(_VIT_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown keys {unknown} for arch 'vit'; valid keys: {sorted(_VIT_DEFAULTS)}")
    for key in ("in_channels", "image_size", "num_frames", "patch_size", "tubelet_size", "hidden_size", "depth", "num_heads"):
        if not (isinstance(config[key], int) and not isinstance(config[key], bool) and config[key] > 0):
            raise ValueError(f"{key} must be a positive int, got {config[key]!r}")
    for key, choices in _CHOICES.items():
        if config[key] not in choices:
            raise ValueError(f"{key} must be one of {choices}, got {config[key]!r}")
    if config["hidden_size"] % config["num_heads"]:
        raise ValueError(f"hidden_size {config['hidden_size']} is not a multiple of num_heads {config['num_heads']}")
    if config["image_size"] % config["patch_size"] or config["num_frames"] % config["tubelet_size"]:
        raise ValueError("image_size must be a multiple of patch_size, and num_frames of tubelet_size")
    if not 0.0 <= config["token_drop_ratio"] < 1.0:
        raise ValueError(f"token_drop_ratio must be in [0, 1), got {config['token_drop_ratio']}")
    if config["pooling"] == "cls" and not config["cls_token"]:
        raise ValueError("pooling='cls' needs cls_token=True")
    if config["attention_type"] == "divided":
        if config["cls_token"]:
            raise ValueError("divided attention works on the token grid: use cls_token=False (and pooling='mean')")
        if config["token_drop_ratio"] > 0 and config["token_drop"] != "tube":
            raise ValueError("divided attention needs a full time x space grid: use token_drop='tube' to drop tokens")
    if not 0.0 < config["heat_fraction"] <= 1.0:
        raise ValueError(f"heat_fraction must be in (0, 1], got {config['heat_fraction']}")
    return config


def sinusoidal_table(num_positions: int, dim: int) -> torch.Tensor:
    """VideoMAE's fixed position table (1, num_positions, dim): sin on even, cos on odd channels, at
    position / 10000^(2 (channel // 2) / dim)."""
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    rates = torch.pow(10000.0, 2 * (torch.arange(dim) // 2).double() / dim)
    table = position / rates
    table[:, 0::2], table[:, 1::2] = torch.sin(table[:, 0::2]), torch.cos(table[:, 1::2])
    return table.float()[None]


def interpolate_spatial(table: torch.Tensor, grid: tuple[int, int], new_grid: tuple[int, int]) -> torch.Tensor:
    """A (1, h*w, D) spatial position table made for a ``grid`` = (h, w) patch grid, resized bicubically to
    ``new_grid`` (as it is when already that size)."""
    if tuple(grid) == tuple(new_grid):
        return table
    dim = table.shape[-1]
    table = table.reshape(1, *grid, dim).permute(0, 3, 1, 2)
    table = F.interpolate(table, size=tuple(new_grid), mode="bicubic", align_corners=False)
    return table.permute(0, 2, 3, 1).reshape(1, new_grid[0] * new_grid[1], dim)


class VideoViTEmbeddings(nn.Module):
    """Tubelet patches + position embeddings (+ CLS token): (B, T, C, H, W) -> tokens (B, t*h*w, D), and (t, h, w)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = config
        size, tubelet, dim = config["patch_size"], config["tubelet_size"], config["hidden_size"]
        self.patch_embedding = nn.Conv3d(config["in_channels"], dim, (tubelet, size, size), stride=(tubelet, size, size))
        self.grid = (config["num_frames"] // tubelet, config["image_size"] // size, config["image_size"] // size)
        if config["position_embedding"] == "learned":
            self.spatial_position = nn.Parameter(torch.zeros(1, self.grid[1] * self.grid[2], dim))
            self.temporal_position = nn.Parameter(torch.zeros(1, self.grid[0], dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim)) if config["cls_token"] else None
        self._sinusoidal: torch.Tensor | None = None  # the fixed table of the last clip size and device (not saved)

    def positions(self, grid: tuple[int, int, int]) -> torch.Tensor:
        """(1, t*h*w, D) position embeddings for a token grid, interpolated from the preset's grid if needed."""
        t, h, w = grid
        dim = self.config["hidden_size"]
        if self.config["position_embedding"] == "sinusoidal":
            device = self.patch_embedding.weight.device
            table = self._sinusoidal
            if table is None or table.shape[1] != t * h * w or table.device != device:  # made once per size
                table = self._sinusoidal = sinusoidal_table(t * h * w, dim).to(device)
            return table
        spatial = interpolate_spatial(self.spatial_position, self.grid[1:], (h, w))
        temporal = self.temporal_position
        if t != self.grid[0]:
            temporal = F.interpolate(temporal.transpose(1, 2), size=t, mode="linear", align_corners=False).transpose(1, 2)
        return (temporal[:, :, None, :] + spatial[:, None, :, :]).reshape(1, t * h * w, dim)

    def forward(self, pixel_values_videos: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
        patches = self.patch_embedding(pixel_values_videos.transpose(1, 2))  # (B, D, t, h, w)
        grid = tuple(patches.shape[2:])
        # contiguous: a transposed view here would lay the whole residual stream out as (B, D, N) in memory (each add
        # keeps its first input's layout), and every layer norm and residual add would copy across it (0.88x
        # VideoMAE's step time at ViT-B in bf16 on an H100/H200, docs/results/profile_vit_gpu.md)
        tokens = patches.flatten(2).transpose(1, 2).contiguous()
        return tokens + self.positions(grid).to(tokens.dtype), grid


def drop_tokens(tokens: torch.Tensor, grid: tuple[int, int, int], ratio: float, mode: str) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """Keep a random ``1 - ratio`` of each sample's tokens (B, t*h*w, D), in their original order. ``"tube"``:
    the same spatial positions at every time; the grid becomes (t, kept positions, 1). ``"random"``: any tokens;
    the grid becomes (1, kept tokens, 1)."""
    batch, _, dim = tokens.shape
    t, h, w = grid
    if mode == "tube":
        keep = max(1, round(h * w * (1 - ratio)))
        spatial = torch.rand(batch, h * w, device=tokens.device).argsort(dim=1)[:, :keep].sort(dim=1).values
        index = (torch.arange(t, device=tokens.device)[None, :, None] * h * w + spatial[:, None, :]).flatten(1)
        new_grid = (t, keep, 1)
    else:
        keep = max(1, round(t * h * w * (1 - ratio)))
        index = torch.rand(batch, t * h * w, device=tokens.device).argsort(dim=1)[:, :keep].sort(dim=1).values
        new_grid = (1, keep, 1)
    return tokens.gather(1, index[..., None].expand(-1, -1, dim)), new_grid


class VideoViTAttention(nn.Module):
    """Multi-head self-attention over (B, N, D) tokens with softmax, NormSoftmax or heat-treated logits."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        dim = config["hidden_size"]
        self.num_heads = config["num_heads"]
        self.head_dim = dim // self.num_heads
        self.attention = config["attention"]
        self.qkv = nn.Linear(dim, 3 * dim, bias=config["qkv_bias"])
        self.proj = nn.Linear(dim, dim)

    def forward(self, hidden_states: torch.Tensor, scale: float, output_attentions: bool = False, sdpa: bool = True):
        batch, tokens, dim = hidden_states.shape
        qkv = self.qkv(hidden_states).reshape(batch, tokens, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        query, key, value = qkv.unbind(0)
        if sdpa and self.attention == "softmax" and not output_attentions:
            context, weights = F.scaled_dot_product_attention(query, key, value, scale=scale), None
        else:
            logits = query @ key.transpose(-2, -1)
            if self.attention == "softmax":
                logits = logits * scale
            else:
                if self.attention == "norm_softmax":
                    spread = (logits - logits.mean(dim=-1, keepdim=True)).pow(2).mean(dim=-1, keepdim=True)
                else:
                    spread = logits.std(dim=-1, keepdim=True)
                logits = logits / torch.clamp(spread, max=1.0 / scale)  # min(1/scale, spread)
            weights = logits.softmax(dim=-1)
            context = weights @ value
        output = self.proj(context.transpose(1, 2).reshape(batch, tokens, dim))
        return output, weights


class LayerScale(nn.Module):
    """Per-channel scale of a residual branch (DINOv2's ``layer_scale``)."""

    def __init__(self, dim: int, value: float) -> None:
        super().__init__()
        self.lambda1 = nn.Parameter(torch.full((dim,), float(value)))
        self.init_value = float(value)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states * self.lambda1


class VideoViTMLP(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        dim = config["hidden_size"]
        self.fc1 = nn.Linear(dim, int(dim * config["mlp_ratio"]))
        self.fc2 = nn.Linear(int(dim * config["mlp_ratio"]), dim)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(hidden_states)))


class VideoViTBlock(GradientCheckpointingLayer):
    """Pre-norm transformer block; with divided attention, a temporal then a spatial attention sub-layer."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        dim, eps = config["hidden_size"], config["layer_norm_eps"]
        self.divided = config["attention_type"] == "divided"
        if self.divided:
            self.temporal_norm = nn.LayerNorm(dim, eps=eps)
            self.temporal_attention = VideoViTAttention(config)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attention = VideoViTAttention(config)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = VideoViTMLP(config)
        scale = config["layer_scale"]
        self.layer_scale1 = LayerScale(dim, scale) if scale is not None else nn.Identity()
        self.layer_scale2 = LayerScale(dim, scale) if scale is not None else nn.Identity()

    def forward(
        self,
        hidden_states: torch.Tensor,
        grid: tuple[int, int, int],
        scale: float,
        output_attentions: bool = False,
        sdpa: bool = True,
    ):
        if self.divided:
            batch, dim = hidden_states.shape[0], hidden_states.shape[-1]
            t, s = grid[0], grid[1] * grid[2]
            by_position = hidden_states.reshape(batch, t, s, dim).transpose(1, 2).reshape(batch * s, t, dim)
            update, _ = self.temporal_attention(self.temporal_norm(by_position), scale, sdpa=sdpa)
            hidden_states = hidden_states + update.reshape(batch, s, t, dim).transpose(1, 2).reshape(batch, t * s, dim)
            by_time = hidden_states.reshape(batch * t, s, dim)
            update, weights = self.attention(self.norm1(by_time), scale, output_attentions, sdpa)
            hidden_states = hidden_states + self.layer_scale1(update.reshape(batch, t * s, dim))
        else:
            update, weights = self.attention(self.norm1(hidden_states), scale, output_attentions, sdpa)
            hidden_states = hidden_states + self.layer_scale1(update)
        hidden_states = hidden_states + self.layer_scale2(self.mlp(self.norm2(hidden_states)))
        return hidden_states, weights


class VideoViT(VideoBackbone):
    """Video Vision Transformer backbone (see the module docstring).

    ``forward(pixel_values_videos)`` takes float clips (B, T, C, H, W); T, H and W need not be the preset's
    (position embeddings are interpolated) but must be multiples of the tubelet and patch sizes.
    """

    ARCHS = ("vit",)
    PRESETS = VIT_PRESETS
    supports_gradient_checkpointing = True

    def __init__(self, config: str | dict[str, Any]) -> None:
        super().__init__()
        self.config = vit_config(config)
        self.embeddings = VideoViTEmbeddings(self.config)
        self.blocks = nn.ModuleList(VideoViTBlock(self.config) for _ in range(self.config["depth"]))
        eps = self.config["final_norm_eps"] or self.config["layer_norm_eps"]  # None: the blocks' eps
        self.norm = nn.LayerNorm(self.config["hidden_size"], eps=eps)
        self.num_features = self.config["hidden_size"]
        self.hidden_sizes = (self.config["hidden_size"],) * (self.config["depth"] + 1)
        self.register_buffer("heat_scale", torch.tensor(self.heat_factor(0.0)), persistent=True)
        self.token_dropping = False  # set by the models that pre-train (never saved: a loaded model does not drop)
        for module in self.modules():
            self.init_module(module)

    @classmethod
    def complete_config(cls, given: dict[str, Any]) -> dict[str, Any]:
        return vit_config(given)

    @property
    def standard_scale(self) -> float:
        return 1.0 / math.sqrt(self.config["hidden_size"] // self.config["num_heads"])

    def heat_factor(self, progress: float) -> float:
        """The logits' scale at ``progress`` (0 to 1 of training) with heat treatment: half-cosine from heat_start
        to heat_end over the first heat_fraction, then heat_end; in units of the paper's 64-dimensional heads."""
        config = self.config
        start, end = config["heat_start"], config["heat_end"]
        phase = min(progress / config["heat_fraction"], 1.0)
        value = end + 0.5 * (start - end) * (1 + math.cos(math.pi * phase))
        return value * 8.0 * self.standard_scale  # 8 = sqrt(64): the paper's values are for d_head = 64

    def training_progress(self, step: int, total_steps: int | None) -> None:
        """Once per optimiser step (the model's ``after_optimizer_step``): the heat-treatment schedule."""
        if self.config["heat_treatment"] and total_steps:
            self.heat_scale.fill_(self.heat_factor(step / total_steps))

    def feature_map(self, last_hidden_state: torch.Tensor, clip_shape: tuple[int, ...]) -> torch.Tensor:
        """The patch tokens (CLS left out) of clips of ``clip_shape`` (frames, channels, height, width) on their
        token grid, (batch, hidden, t, h, w). Tokens dropped in pre-training leave no full grid: a ValueError."""
        frames, _, height, width = clip_shape
        config = self.config
        grid = (frames // config["tubelet_size"], height // config["patch_size"], width // config["patch_size"])
        patches = last_hidden_state[:, 1:] if self.embeddings.cls_token is not None else last_hidden_state
        if patches.shape[1] != grid[0] * grid[1] * grid[2]:
            raise ValueError(
                f"{patches.shape[1]} patch tokens do not fill the {grid[0]} x {grid[1]} x {grid[2]} token grid (tokens "
                "dropped in pre-training?): a feature map needs every token"
            )
        return patches.transpose(1, 2).reshape(len(patches), -1, *grid)

    def attention_scale(self) -> float:
        if self.config["heat_treatment"] and self.training:
            return float(self.heat_scale)
        return self.standard_scale

    @classmethod
    def init_module(cls, module: nn.Module) -> bool:
        """ViT's initialisation: truncated normal (std 0.02) for linear layers, the patch projection (as a linear
        map of the flattened tubelet), position tables and the CLS token; identity layer norms."""
        if isinstance(module, (nn.Linear, nn.Conv3d)):
            init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, VideoViTEmbeddings):
            for parameter in (getattr(module, "spatial_position", None), getattr(module, "temporal_position", None), module.cls_token):
                if parameter is not None:
                    init.trunc_normal_(parameter, std=0.02)
        elif isinstance(module, LayerScale):
            init.constant_(module.lambda1, module.init_value)
        elif isinstance(module, VideoViT):
            init.copy_(module.heat_scale, torch.tensor(module.heat_factor(0.0)))
        else:
            return False
        return True

    def describe(self) -> str:
        config = self.config
        extras = [
            f"{config['attention_type']} space-time attention",
            f"{config['position_embedding']} positions",
            f"{config['pooling']} pooling",
        ]
        if config["attention"] != "softmax":
            extras.append(config["attention"].replace("_", " "))
        if config["heat_treatment"]:
            extras.append(f"heat treatment {config['heat_start']} -> {config['heat_end']}")
        if config["token_drop_ratio"]:
            extras.append(f"{config['token_drop']} token dropping {config['token_drop_ratio']:g} in pre-training")
        if config["input"] == "frame_difference":
            extras.append("on differences of consecutive frames")
        return (
            f"video ViT, {config['depth']} blocks, width {config['hidden_size']}, {config['num_heads']} heads, "
            f"{config['tubelet_size']}x{config['patch_size']}x{config['patch_size']} tubelets; " + ", ".join(extras)
        )

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        attn_implementation: str | None = None,
    ) -> VideoBackboneOutput:
        """``attn_implementation`` "eager" computes the attention weights explicitly; "sdpa" (or None) uses
        `torch.nn.functional.scaled_dot_product_attention` wherever it applies (plain softmax, no weights asked)."""
        config = self.config
        if pixel_values_videos.ndim != 5 or pixel_values_videos.shape[2] != config["in_channels"]:
            raise ValueError(
                f"expected pixel_values_videos (batch, frames, {config['in_channels']} channels, height, width), "
                f"got {tuple(pixel_values_videos.shape)}"
            )
        if config["input"] == "frame_difference":
            pixel_values_videos = frame_differences(pixel_values_videos, config["tubelet_size"])
        frames, height, width = pixel_values_videos.shape[1], *pixel_values_videos.shape[3:]
        if frames % config["tubelet_size"] or height % config["patch_size"] or width % config["patch_size"]:
            raise ValueError(
                f"a clip of {frames} frames of {height} x {width} does not split into "
                f"{config['tubelet_size']} x {config['patch_size']} x {config['patch_size']} tubelets"
            )
        tokens, grid = self.embeddings(pixel_values_videos)
        if self.training and self.token_dropping and config["token_drop_ratio"] > 0:
            tokens, grid = drop_tokens(tokens, grid, config["token_drop_ratio"], config["token_drop"])
        if self.embeddings.cls_token is not None:
            tokens = torch.cat([self.embeddings.cls_token.expand(len(tokens), -1, -1), tokens], dim=1)
        scale, sdpa = self.attention_scale(), attn_implementation in (None, "sdpa")
        hidden_states, attentions = [tokens], []
        for block in self.blocks:
            tokens, weights = block(tokens, grid, scale, output_attentions, sdpa)
            hidden_states.append(tokens)
            attentions.append(weights)
        if config["final_norm"] == "tokens":
            tokens = self.norm(tokens)
        patches = tokens[:, 1:] if self.embeddings.cls_token is not None else tokens
        pooled = tokens[:, 0] if config["pooling"] == "cls" else patches.mean(dim=1)
        if config["final_norm"] == "pooled":  # VideoMAE's mean pooling: the norm after pooling (its fc_norm)
            pooled = self.norm(pooled)
        return VideoBackboneOutput(
            last_hidden_state=tokens,
            pooler_output=pooled,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(attentions) if output_attentions else None,
        )
