"""Write tests/legacy/<method>/: a tiny pre-training model of every method, saved by the code of commit
9a73349 (before the named-views / backbone-registry rework), with its video processor and reference
outputs. tests/test_legacy_checkpoints.py checks that today's code loads these folders with no missing or
unexpected weights and reproduces the outputs. Kept for provenance: rerunning it with today's code would
no longer test anything.

    git worktree add /tmp/hfvid-9a73349 9a73349 && cd /tmp/hfvid-9a73349 && python <this file> <out dir>
"""

import sys
from pathlib import Path

import torch
from transformers import AutoModelForPreTraining

from hfvid.models import processor_for_config
from hfvid.presets import get_config

BACKBONES = {
    "r3d": {"arch": "r3d", "layers": [1, 1, 1, 1], "widths": [4, 4, 8, 8], "stem_width": 4},
    "r2plus1d": {"arch": "r2plus1d", "layers": [1, 1, 1, 1], "widths": [4, 4, 8, 8], "stem_width": 4},
}
MODELS = {
    "transrank": ("transrank-r3d18-tiny", "r3d", {"head_hidden_dim": 8}),
    "moco": ("moco-r3d18-tiny", "r2plus1d", {"projection_dim": 8, "projection_hidden_dim": 8, "queue_size": 16}),
    "rince": ("rince-r3d18-tiny", "r3d", {"projection_dim": 8, "projection_hidden_dim": 8, "queue_size": 16}),
    "simclr": ("simclr-r3d18-tiny", "r3d", {"projection_dim": 8, "projection_hidden_dim": 8}),
    "byol": ("byol-r3d18-tiny", "r3d", {"projection_dim": 8, "projection_hidden_dim": 8, "prediction_hidden_dim": 8}),
    "simsiam": ("simsiam-r3d18-tiny", "r3d", {"projection_dim": 8, "projection_hidden_dim": 8, "prediction_hidden_dim": 8}),
}


def main(out: Path) -> None:
    for method, (preset, backbone, overrides) in MODELS.items():
        torch.manual_seed(0)
        config = get_config(preset, backbone=BACKBONES[backbone], num_frames=4, image_size=16, **overrides)
        model = AutoModelForPreTraining.from_config(config)
        clips = len(config.transformations) if method == "transrank" else config.views_per_video
        inputs = torch.randn(2, clips, 4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
        model.train()
        for _ in range(2):  # a few forward passes fill queues and move momentum encoders and BatchNorm statistics
            model(pixel_values_videos=inputs).loss.backward()
        model.eval()
        with torch.no_grad():
            loss = model(pixel_values_videos=inputs).loss
            pooled = model.base_model(inputs[:, 0]).pooler_output
        folder = out / method
        model.save_pretrained(folder)
        processor_for_config(config).save_pretrained(folder)
        torch.save({"inputs": inputs, "loss": loss, "pooler_output": pooled}, folder / "reference.pt")
        print(folder, float(loss))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
