"""Video backbones: R3D and R(2+1)D ResNets."""

from .resnet3d import (
    BACKBONE_CONFIGS,
    VideoResNet,
    backbone_config,
    build_backbone,
    convert_torchvision_state_dict,
)

__all__ = [
    "BACKBONE_CONFIGS",
    "VideoResNet",
    "backbone_config",
    "build_backbone",
    "convert_torchvision_state_dict",
]
