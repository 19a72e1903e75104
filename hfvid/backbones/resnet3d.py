"""Video ResNets: R3D-18 and R(2+1)D-18 (Tran et al., 2018, "A Closer Look at Spatiotemporal
Convolutions for Action Recognition"), plus width/depth-configurable variants.

The architectures match ``torchvision.models.video.r3d_18`` / ``r2plus1d_18`` layer for layer,
so ``convert_torchvision_state_dict`` can load their weights; the module names are our own,
readable ones. Registered for ``arch`` "r3d" and "r2plus1d" in `hfvid.backbones.registry`. This file imports
only torch, transformers and the standard library: it is copied into saved model folders as remote code.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer

from hfvid.backbones.base import VideoBackbone, VideoBackboneOutput, frame_differences, given_config

RESNET_PRESETS: dict[str, dict[str, Any]] = {
    "r3d_18": {
        "arch": "r3d",
        "in_channels": 3,
        "layers": [2, 2, 2, 2],
        "widths": [64, 128, 256, 512],
        "stem_width": 64,
        "input": "rgb",
    },
    "r2plus1d_18": {
        "arch": "r2plus1d",
        "in_channels": 3,
        "layers": [2, 2, 2, 2],
        "widths": [64, 128, 256, 512],
        "stem_width": 64,
        "stem_midplanes": 45,
        "input": "rgb",
    },
    "r3d_tiny": {
        "arch": "r3d",
        "in_channels": 3,
        "layers": [1, 1, 1, 1],
        "widths": [8, 16, 32, 64],
        "stem_width": 8,
    },
    "r2plus1d_tiny": {
        "arch": "r2plus1d",
        "in_channels": 3,
        "layers": [1, 1, 1, 1],
        "widths": [8, 16, 32, 64],
        "stem_width": 8,
        "stem_midplanes": 6,
    },
}
# The tiny networks on differences of consecutive frames: what the tiny TransRank presets pre-train with.
RESNET_PRESETS.update(
    {f"{name}_diff": {**RESNET_PRESETS[name], "input": "frame_difference"} for name in ("r3d_tiny", "r2plus1d_tiny")}
)

# What the stem sees: the frames as given, or the T - 1 differences of consecutive frames (x[t+1] - x[t]; the
# "residual frames" of Tao et al., 2020, "Rethinking Motion Representation: Residual Frames with 3D ConvNets"),
# which removes what does not change over the clip and leaves motion (docs/learning.md measures what it does).
RESNET_INPUTS = ("rgb", "frame_difference")

# Keys missing from a config dict are taken from the *_18 model of its arch.
_ARCH_DEFAULTS = {"r3d": "r3d_18", "r2plus1d": "r2plus1d_18"}


def resnet_config(name_or_dict: str | dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Resolve a ResNet preset name or a (possibly partial) config dict into a complete, validated config.

    Keys a dict leaves out come from the ``*_18`` preset of its ``arch``, except ``stem_midplanes``
    of an R(2+1)D, which defaults to torchvision's 45 scaled by ``stem_width / 64``. ``overrides``
    replace single keys. Raises ``ValueError`` for an unknown name, arch or key, or a bad value.
    """
    given = given_config(name_or_dict, RESNET_PRESETS, **overrides)
    arch = given.get("arch")
    if arch not in _ARCH_DEFAULTS:
        raise ValueError(f"unknown arch {arch!r}; valid archs: {sorted(_ARCH_DEFAULTS)}")
    config = {**RESNET_PRESETS[_ARCH_DEFAULTS[arch]], **given}
    unknown = sorted(set(config) - set(RESNET_PRESETS[_ARCH_DEFAULTS[arch]]))
    if unknown:
        raise ValueError(f"unknown keys {unknown} for arch {arch!r}")

    for key in ("layers", "widths"):
        values = config[key]
        if not isinstance(values, (list, tuple)) or not values or not all(map(_is_positive_int, values)):
            raise ValueError(f"{key} must be a non-empty list of positive ints, got {values!r}")
        config[key] = list(values)
    if len(config["layers"]) != len(config["widths"]):
        raise ValueError(f"layers and widths need one entry per stage, got {config['layers']} and {config['widths']}")
    if arch == "r2plus1d" and "stem_midplanes" not in given and _is_positive_int(config["stem_width"]):
        config["stem_midplanes"] = max(1, round(45 * config["stem_width"] / 64))
    for key in ("in_channels", "stem_width", "stem_midplanes"):
        if key in config and not _is_positive_int(config[key]):
            raise ValueError(f"{key} must be a positive int, got {config[key]!r}")
    if config["input"] not in RESNET_INPUTS:
        raise ValueError(f"input must be one of {RESNET_INPUTS}, got {config['input']!r}")
    return config


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class Conv3DSimple(nn.Conv3d):
    """A full 3x3x3 convolution (R3D), striding time and space alike."""

    def __init__(self, in_planes: int, out_planes: int, stride: int = 1) -> None:
        super().__init__(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class Conv2Plus1D(nn.Module):
    """A 3x3x3 convolution factorised into a 1x3x3 spatial convolution to ``midplanes`` channels,
    batch norm, ReLU and a 3x1x1 temporal convolution: twice the nonlinearities for about the
    same parameters. It strides space in the first convolution and time in the second."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int, stride: int = 1) -> None:
        super().__init__()
        self.spatial_conv = nn.Conv3d(
            in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
        )
        self.spatial_norm = nn.BatchNorm3d(midplanes)
        self.relu = nn.ReLU(inplace=True)
        self.temporal_conv = nn.Conv3d(
            midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False
        )

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = self.relu(self.spatial_norm(self.spatial_conv(hidden_states)))
        return self.temporal_conv(hidden_states)


class R3DStem(nn.Module):
    """R3D stem: a 3x7x7 convolution that halves height and width, batch norm, ReLU."""

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels, width, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False
        )
        self.norm = nn.BatchNorm3d(width)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.relu(self.norm(self.conv(pixel_values)))


class R2Plus1DStem(nn.Module):
    """R(2+1)D stem: the R3D stem's 3x7x7 convolution factorised into 1x7x7 (to ``midplanes``
    channels) and 3x1x1, each followed by batch norm and ReLU."""

    def __init__(self, in_channels: int, width: int, midplanes: int) -> None:
        super().__init__()
        self.spatial_conv = nn.Conv3d(
            in_channels, midplanes, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False
        )
        self.spatial_norm = nn.BatchNorm3d(midplanes)
        self.temporal_conv = nn.Conv3d(midplanes, width, kernel_size=(3, 1, 1), padding=(1, 0, 0), bias=False)
        self.norm = nn.BatchNorm3d(width)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        hidden_states = self.relu(self.spatial_norm(self.spatial_conv(pixel_values)))
        return self.relu(self.norm(self.temporal_conv(hidden_states)))


class VideoResNetShortcut(nn.Module):
    """Projection shortcut: a strided 1x1x1 convolution and batch norm, used where a block changes
    the number of channels or the resolution."""

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
        self.norm = nn.BatchNorm3d(out_planes)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(hidden_states))


class VideoResNetBasicBlock(GradientCheckpointingLayer):
    """ResNet basic block: two convolutions (``Conv3DSimple`` for R3D, ``Conv2Plus1D`` for R(2+1)D)
    with batch norm, added to the (projected) input, then ReLU. Under ``gradient_checkpointing_enable()`` its
    activations are recomputed in the backward pass instead of stored."""

    def __init__(self, in_planes: int, out_planes: int, arch: str, stride: int = 1) -> None:
        super().__init__()
        if arch == "r3d":
            self.conv1 = Conv3DSimple(in_planes, out_planes, stride)
            self.conv2 = Conv3DSimple(out_planes, out_planes)
        else:
            # torchvision's formula, giving a (2+1)D convolution as many parameters as a 3x3x3 one.
            # Like torchvision, it is computed once per block, so a block that widens the channels
            # uses the same midplanes in its second convolution.
            midplanes = (in_planes * out_planes * 3 * 3 * 3) // (in_planes * 3 * 3 + 3 * out_planes)
            self.conv1 = Conv2Plus1D(in_planes, out_planes, midplanes, stride)
            self.conv2 = Conv2Plus1D(out_planes, out_planes, midplanes)
        self.norm1 = nn.BatchNorm3d(out_planes)
        self.norm2 = nn.BatchNorm3d(out_planes)
        self.relu = nn.ReLU(inplace=True)
        needs_projection = stride != 1 or in_planes != out_planes
        self.shortcut = VideoResNetShortcut(in_planes, out_planes, stride) if needs_projection else nn.Identity()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        residual = self.shortcut(hidden_states)
        hidden_states = self.relu(self.norm1(self.conv1(hidden_states)))
        hidden_states = self.norm2(self.conv2(hidden_states))
        return self.relu(hidden_states + residual)


class VideoResNetStage(nn.Sequential):
    """``depth`` basic blocks at one width; the first one applies the stage's stride."""

    def __init__(self, in_planes: int, out_planes: int, depth: int, arch: str, stride: int) -> None:
        blocks = [VideoResNetBasicBlock(in_planes, out_planes, arch, stride)]
        blocks += [VideoResNetBasicBlock(out_planes, out_planes, arch) for _ in range(depth - 1)]
        super().__init__(*blocks)


class VideoResNet(VideoBackbone):
    """R3D / R(2+1)D backbone: stem, then one stage per entry of ``config["widths"]`` (the first at
    stride 1, the others halving time, height and width), then global average pooling.

    With ``config["input"] == "frame_difference"`` the stem sees the T - 1 differences of consecutive frames
    instead of the T frames (T >= 2).

    ``forward(pixel_values_videos)`` takes float clips (B, T, C, H, W) and returns the last stage's output
    (B, num_features, t, h, w) as ``last_hidden_state`` and its mean over t, h, w (B, num_features) as
    ``pooler_output``; with ``output_hidden_states`` also the stem's and every stage's output.
    """

    ARCHS = ("r3d", "r2plus1d")
    PRESETS = RESNET_PRESETS
    supports_gradient_checkpointing = True

    def __init__(self, config: str | dict[str, Any]) -> None:
        super().__init__()
        self.config = resnet_config(config)
        arch, widths = self.config["arch"], self.config["widths"]
        if arch == "r3d":
            self.stem = R3DStem(self.config["in_channels"], self.config["stem_width"])
        else:
            stem_midplanes = self.config["stem_midplanes"]
            self.stem = R2Plus1DStem(self.config["in_channels"], self.config["stem_width"], stem_midplanes)
        in_planes = [self.config["stem_width"], *widths[:-1]]
        self.stages = nn.ModuleList(
            VideoResNetStage(in_planes[i], widths[i], depth, arch, stride=1 if i == 0 else 2)
            for i, depth in enumerate(self.config["layers"])
        )
        self.num_features = widths[-1]
        self.hidden_sizes = (self.config["stem_width"], *widths)
        for module in self.modules():
            self.init_module(module)

    @classmethod
    def complete_config(cls, given: dict[str, Any]) -> dict[str, Any]:
        return resnet_config(given)

    @classmethod
    def init_module(cls, module: nn.Module) -> bool:
        """torchvision's initialisation: He (fan-out) for convolutions, identity for batch norms, whose running
        statistics start at mean 0, variance 1."""
        if isinstance(module, nn.Conv3d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm3d):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)
        else:
            return False
        return True

    def describe(self) -> str:
        name = {"r3d": "R3D", "r2plus1d": "R(2+1)D"}[self.config["arch"]]
        return (
            f"{name} video ResNet, {len(self.config['layers'])} stages of {self.config['layers']} basic blocks, "
            f"widths {self.config['widths']}"
            + (", on differences of consecutive frames" if self.config["input"] == "frame_difference" else "")
        )

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        attn_implementation: str | None = None,
    ) -> VideoBackboneOutput:
        """``output_attentions`` and ``attn_implementation`` are accepted for the common interface; a ResNet has no
        attention (``attentions`` is None)."""
        channels = self.config["in_channels"]
        if pixel_values_videos.ndim != 5 or pixel_values_videos.shape[2] != channels:
            raise ValueError(
                f"expected pixel_values_videos (batch, frames, {channels} channels, height, width), "
                f"got {tuple(pixel_values_videos.shape)}"
            )
        if self.config["input"] == "frame_difference":
            pixel_values_videos = frame_differences(pixel_values_videos)
        feature_map = self.stem(pixel_values_videos.transpose(1, 2))
        hidden_states = [feature_map]
        for stage in self.stages:
            feature_map = stage(feature_map)
            hidden_states.append(feature_map)
        return VideoBackboneOutput(
            last_hidden_state=feature_map,
            pooler_output=feature_map.mean(dim=(2, 3, 4)),
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
        )


# torchvision key -> our key, applied in order. torchvision's modules are nn.Sequential, so its
# names are indices: stem.{0: conv, 1: bn} (R3D) or stem.{0: conv, 1: bn, 3: conv, 4: bn} (R(2+1)D),
# layerN.i.convK.{0: conv, 1: bn}, where a (2+1)D conv is itself {0: conv, 1: bn, 3: conv}, and
# layerN.i.downsample.{0: conv, 1: bn}.
_BLOCK_RENAMES = [
    (r"^layer(\d+)\.", lambda match: f"stages.{int(match[1]) - 1}."),
    (r"\.conv(\d)\.1\.", r".norm\1."),
    (r"\.downsample\.0\.", ".shortcut.conv."),
    (r"\.downsample\.1\.", ".shortcut.norm."),
]
_TORCHVISION_RENAMES = {
    "r3d": [
        (r"^stem\.0\.", "stem.conv."),
        (r"^stem\.1\.", "stem.norm."),
        (r"\.conv(\d)\.0\.", r".conv\1."),
        *_BLOCK_RENAMES,
    ],
    "r2plus1d": [
        (r"^stem\.0\.", "stem.spatial_conv."),
        (r"^stem\.1\.", "stem.spatial_norm."),
        (r"^stem\.3\.", "stem.temporal_conv."),
        (r"^stem\.4\.", "stem.norm."),
        (r"\.conv(\d)\.0\.0\.", r".conv\1.spatial_conv."),
        (r"\.conv(\d)\.0\.1\.", r".conv\1.spatial_norm."),
        (r"\.conv(\d)\.0\.3\.", r".conv\1.temporal_conv."),
        *_BLOCK_RENAMES,
    ],
}


def convert_torchvision_state_dict(
    state_dict: dict[str, torch.Tensor], arch: str | dict[str, Any]
) -> dict[str, torch.Tensor]:
    """Rename a torchvision ``r3d_18`` / ``r2plus1d_18`` state dict to ``VideoResNet``'s names.

    ``arch``: ``"r3d"`` / ``"r2plus1d"`` (torchvision's 18-layer models) or any preset name or
    config dict ``resnet_config`` accepts. The classifier (``fc.*``) is dropped. Raises
    ``ValueError`` naming every unexpected key, missing key and shape mismatch.
    """
    config = resnet_config(_ARCH_DEFAULTS.get(arch, arch) if isinstance(arch, str) else arch)
    renames = _TORCHVISION_RENAMES[config["arch"]]
    converted, source_of = {}, {}
    for key, tensor in state_dict.items():
        if key.startswith("fc."):
            continue
        new_key = key
        for pattern, replacement in renames:
            new_key = re.sub(pattern, replacement, new_key)
        converted[new_key], source_of[new_key] = tensor, key

    with torch.device("meta"):
        expected = VideoResNet(config).state_dict()
    unexpected = [source_of[key] for key in converted if key not in expected]
    missing = [key for key in expected if key not in converted]
    mismatched = [
        f"{source_of[key]} {tuple(converted[key].shape)} -> {key} {tuple(value.shape)}"
        for key, value in expected.items()
        if key in converted and converted[key].shape != value.shape
    ]
    if unexpected or missing or mismatched:
        raise ValueError(
            f"torchvision state dict does not match {config}: unexpected keys {unexpected}, "
            f"missing keys (our names) {missing}, shape mismatches {mismatched}"
        )
    return converted
