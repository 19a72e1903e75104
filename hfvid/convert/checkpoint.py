"""An hfvid backbone checkpoint: a folder with ``backbone.safetensors`` and ``backbone_config.json`` (the complete
backbone config), written by the converters in `hfvid.convert` and read by ``training/pretrain.py --init_backbone``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from hfvid.backbones.base import VideoBackbone
from hfvid.backbones.registry import backbone_config

BACKBONE_WEIGHTS = "backbone.safetensors"
BACKBONE_CONFIG = "backbone_config.json"


def save_backbone_checkpoint(state_dict: dict[str, torch.Tensor], config: dict[str, Any], out: str | os.PathLike) -> Path:
    """Write ``out/backbone.safetensors`` and ``out/backbone_config.json``; returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.contiguous() for name, tensor in state_dict.items()}, str(out / BACKBONE_WEIGHTS))
    (out / BACKBONE_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    return out


def backbone_checkpoint_config(folder: str | os.PathLike) -> dict[str, Any]:
    """The complete backbone config of the checkpoint in ``folder``."""
    path = Path(folder) / BACKBONE_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not an hfvid backbone checkpoint (no {BACKBONE_CONFIG}); see hfvid.convert")
    return backbone_config(json.loads(path.read_text()))


def load_backbone_checkpoint(backbone: VideoBackbone, folder: str | os.PathLike) -> None:
    """Load the checkpoint in ``folder`` into ``backbone``; the architectures must match exactly."""
    config = backbone_checkpoint_config(folder)
    if config != backbone.config:
        raise ValueError(f"{folder} holds a {config} backbone, the model has {backbone.config}")
    backbone.load_state_dict(load_file(str(Path(folder) / BACKBONE_WEIGHTS)), strict=True)
