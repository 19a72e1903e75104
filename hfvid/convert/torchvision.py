"""Turn torchvision's video ResNet weights into an hfvid backbone checkpoint.

    python -m hfvid.convert.torchvision --arch r3d_18 --weights r3d_18-b3b3357e.pth --out r3d18-kinetics

writes ``backbone.safetensors`` and ``backbone_config.json``; ``training/pretrain.py --init_backbone DIR``
starts any method from it (e.g. torchvision's Kinetics-400 weights, downloaded by the user).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from hfvid.backbones.registry import BACKBONE_CONFIGS
from hfvid.backbones.resnet3d import convert_torchvision_state_dict
from hfvid.convert.checkpoint import load_backbone_checkpoint, save_backbone_checkpoint  # noqa: F401 (re-exported)
from hfvid.utils.cli import HelpFormatter, accept_dashes

TORCHVISION_ARCHS = ("r3d_18", "r2plus1d_18")


def convert_checkpoint(arch: str, weights: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Convert a torchvision ``.pth`` state dict of ``arch`` into ``out/backbone.safetensors`` + config."""
    if arch not in TORCHVISION_ARCHS:
        raise ValueError(f"arch must be one of {TORCHVISION_ARCHS}, got {arch!r}")
    state_dict = torch.load(weights, map_location="cpu", weights_only=True)
    if not isinstance(state_dict, dict):
        raise ValueError(f"{weights} does not hold a state dict")
    converted = convert_torchvision_state_dict(state_dict, arch)
    return save_backbone_checkpoint(converted, BACKBONE_CONFIGS[arch], out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hfvid.convert.torchvision", description=__doc__.splitlines()[0], formatter_class=HelpFormatter)
    parser.add_argument("--arch", required=True, choices=TORCHVISION_ARCHS)
    parser.add_argument("--weights", required=True, help="torchvision state dict (.pth)")
    parser.add_argument("--out", required=True, help="output folder")
    args = accept_dashes(parser).parse_args(argv)
    print(f"hfvid backbone checkpoint in {convert_checkpoint(args.arch, args.weights, args.out)}")


if __name__ == "__main__":
    main()
