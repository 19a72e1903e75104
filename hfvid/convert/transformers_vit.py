"""Turn a transformers image ViT (ViT, DeiT, DINOv2) or VideoMAE checkpoint into an hfvid video-ViT backbone
checkpoint (see `hfvid.backbones.vit_conversion` for the mapping: image models are inflated over time).

    python -m hfvid.convert.transformers_vit --model facebook/dinov2-small --num_frames 16 --out dinov2-s-video

writes ``backbone.safetensors`` and ``backbone_config.json``; ``training/pretrain.py --model <method>-vit-s
--init_backbone DIR`` starts any method from it (a preset takes the checkpoint's backbone architecture).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from hfvid.backbones.vit_conversion import video_vit_from_transformers
from hfvid.convert.checkpoint import save_backbone_checkpoint
from hfvid.utils.cli import HelpFormatter, accept_dashes


def convert_checkpoint(model: str, out: str | os.PathLike, num_frames: int = 16, tubelet_size: int = 2) -> Path:
    """Convert the transformers checkpoint ``model`` (folder or Hub id) into ``out``."""
    backbone = video_vit_from_transformers(model, num_frames=num_frames, tubelet_size=tubelet_size)
    return save_backbone_checkpoint(backbone.state_dict(), backbone.config, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hfvid.convert.transformers_vit", description=__doc__.splitlines()[0], formatter_class=HelpFormatter)
    parser.add_argument("--model", required=True, help="transformers checkpoint folder or Hub id (vit, deit, dinov2, videomae)")
    parser.add_argument("--num_frames", type=int, default=16, help="clip length of an image model's position table")
    parser.add_argument("--tubelet_size", type=int, default=2, help="frames per tubelet of an inflated image model")
    parser.add_argument("--out", required=True, help="output folder")
    args = accept_dashes(parser).parse_args(argv)
    print(f"hfvid backbone checkpoint in {convert_checkpoint(args.model, args.out, args.num_frames, args.tubelet_size)}")


if __name__ == "__main__":
    main()
