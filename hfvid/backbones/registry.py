"""The backbone registry: ``arch`` -> backbone class, and the named presets of every registered class.

    build_backbone("r3d_tiny")                         # a preset name
    build_backbone({"arch": "r2plus1d", "widths": [8, 16, 32, 64], "layers": [1, 1, 1, 1]})
    register_backbone(MyVideoViT)                      # a class following hfvid.backbones.base.VideoBackbone

A model stores the complete config dict (`backbone_config`) in its own config, so a saved model rebuilds the same
backbone. Built-in backbones are listed in ``_BUILT_IN``; `register_backbone` adds others at run time.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from hfvid.backbones.base import VideoBackbone, given_config
from hfvid.backbones.framewise import FramewiseResNet
from hfvid.backbones.resnet3d import VideoResNet
from hfvid.backbones.vit import VideoViT

_BUILT_IN: tuple[type[VideoBackbone], ...] = (VideoResNet, VideoViT, FramewiseResNet)
BACKBONES: dict[str, type[VideoBackbone]] = {arch: cls for cls in _BUILT_IN for arch in cls.ARCHS}


def register_backbone(cls: type[VideoBackbone]) -> type[VideoBackbone]:
    """Make ``cls`` buildable from configs whose ``arch`` is one of ``cls.ARCHS`` (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, VideoBackbone)) or not cls.ARCHS:
        raise ValueError(f"{cls!r} must subclass hfvid.backbones.base.VideoBackbone and name its ARCHS")
    for arch in cls.ARCHS:
        if BACKBONES.get(arch, cls) is not cls:
            raise ValueError(f"arch {arch!r} is already registered by {BACKBONES[arch].__name__}")
        BACKBONES[arch] = cls
    return cls


def backbone_presets() -> dict[str, dict[str, Any]]:
    """Preset name -> config, over every registered backbone class."""
    return {name: config for cls in dict.fromkeys(BACKBONES.values()) for name, config in cls.PRESETS.items()}


def backbone_config(name_or_dict: str | dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A preset name or (possibly partial) config dict -> the complete, validated config; ``overrides`` replace
    single keys. Raises ``ValueError`` for an unknown name or arch, or what the backbone class rejects."""
    given = given_config(name_or_dict, backbone_presets(), **overrides)
    arch = given.get("arch")
    if arch not in BACKBONES:
        raise ValueError(
            f"unknown arch {arch!r}; valid archs: {sorted(BACKBONES)}, valid names: {sorted(backbone_presets())}"
        )
    return BACKBONES[arch].complete_config(given)


def build_backbone(config_or_name: str | dict[str, Any]) -> VideoBackbone:
    """A randomly initialised backbone from a preset name or config dict. Every submodule records its
    backbone's `init_module` (as ``_backbone_init``), so a model's ``_init_weights`` initialises it the
    backbone's way wherever it sits (also in momentum copies)."""
    config = backbone_config(config_or_name)
    backbone = BACKBONES[config["arch"]](config)
    for module in backbone.modules():
        module._backbone_init = type(backbone).init_module
    return backbone


def init_backbone_module(module: nn.Module) -> bool:
    """Initialise ``module`` the way its backbone does, if it belongs to one; False otherwise."""
    init_module = getattr(module, "_backbone_init", None)
    return bool(init_module is not None and init_module(module))


BACKBONE_CONFIGS = backbone_presets()  # the built-in presets (kept for the names of earlier versions)
