"""Video backbones behind one protocol (`VideoBackbone`) and a registry: R3D and R(2+1)D ResNets."""

from .base import VideoBackbone, VideoBackboneOutput
from .registry import (
    BACKBONE_CONFIGS,
    BACKBONES,
    backbone_config,
    backbone_presets,
    build_backbone,
    register_backbone,
)
from .resnet3d import VideoResNet, convert_torchvision_state_dict

__all__ = [
    "BACKBONES",
    "BACKBONE_CONFIGS",
    "VideoBackbone",
    "VideoBackboneOutput",
    "VideoResNet",
    "backbone_config",
    "backbone_presets",
    "build_backbone",
    "convert_torchvision_state_dict",
    "register_backbone",
]
