"""A few training steps of pre-training methods (the contrastive ones, and those whose loss is per video: BYOL,
SimSiam, NextFrame, VideoMAE, V-JEPA) on a fixed global batch, as one process or as one of the processes of
`accelerate launch` (DDP over gloo on CPU). `test_contrastive_ddp.py` runs it both ways and
compares: losses and weights must not depend on how the batch is split across processes.

    python tests/distributed_steps.py OUT_DIR PRESET [PRESET ...]
    accelerate launch --multi_gpu --num_processes 2 tests/distributed_steps.py OUT_DIR PRESET [PRESET ...]

BatchNorm layers run on their running statistics (eval mode) so that per-process batch statistics, which
DDP does not synchronise, do not enter the comparison; everything else (momentum updates, queues, the
gathered negatives and their gradients) runs as in training.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import save_file

from hfvid.presets import load_for_pretraining
from hfvid.utils.distributed import gather_rows

GLOBAL_BATCH = 4
STEPS = 3


def global_batch(config, step: int) -> dict[str, torch.Tensor]:
    """The model inputs of one step for the whole global batch (rows = videos)."""
    generator = torch.Generator().manual_seed(step)
    size = config.image_size
    if hasattr(config, "token_grid"):  # VideoMAE, V-JEPA: one clip and its token masks, the same count in every row
        clips = torch.randn((GLOBAL_BATCH, config.num_frames, 3, size, size), generator=generator)
        tokens = math.prod(config.token_grid)
        scores = torch.rand((GLOBAL_BATCH, 2, tokens), generator=generator)
        masks = scores < scores.kthvalue(tokens // 2, dim=2, keepdim=True).values  # tokens // 2 - 1 True per row
        if hasattr(config, "mask_ratio"):
            return {"pixel_values": clips, "bool_masked_pos": masks[:, 0]}
        return {"pixel_values_videos": clips, "target_masks": masks}
    if hasattr(config, "broad_num_frames"):  # BraVe: a narrow and a broad view
        broad = (GLOBAL_BATCH, config.broad_num_frames, 3, config.broad_image_size, config.broad_image_size)
        return {
            "pixel_values_videos": torch.randn((GLOBAL_BATCH, config.num_frames, 3, size, size), generator=generator),
            "broad_values": torch.randn(broad, generator=generator),
        }
    if hasattr(config, "decoder_width"):  # NextFrame: a clip and the frame after it
        frames = torch.randn((GLOBAL_BATCH, config.num_frames + 1, 3, size, size), generator=generator)
        return {"pixel_values_videos": frames[:, :-1], "next_frame_values": frames[:, -1]}
    shape = (GLOBAL_BATCH, config.views_per_video, config.num_frames, 3, size, size)
    # Video ids repeat across steps, so queued keys of the same video exist (RINCE ranks them 2).
    return {"pixel_values_videos": torch.randn(shape, generator=generator), "video_ids": torch.arange(GLOBAL_BATCH)}


def run(preset: str, accelerator: Accelerator, out_dir: Path) -> None:
    torch.manual_seed(0)
    model, _ = load_for_pretraining(preset)  # the method's own class (V-JEPA's is hfvid's)
    config = model.config
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    if accelerator.is_main_process:  # the weights before the steps, to scale the test's tolerance by what they changed
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out_dir / f"{preset}.initial.safetensors")
    model, optimizer = accelerator.prepare(model, optimizer)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()
    rows = GLOBAL_BATCH // accelerator.num_processes
    mine = slice(accelerator.process_index * rows, (accelerator.process_index + 1) * rows)
    losses = []
    for step in range(STEPS):
        output = model(**{name: value[mine] for name, value in global_batch(config, step).items()})
        accelerator.backward(output.loss)
        optimizer.step()
        optimizer.zero_grad()
        if hasattr(accelerator.unwrap_model(model), "after_optimizer_step"):  # transformers' VideoMAE has none
            accelerator.unwrap_model(model).after_optimizer_step(step + 1, STEPS)
        losses.append(accelerator.reduce(output.loss.detach(), reduction="mean").item())
    if accelerator.is_main_process:
        state = {k: v.contiguous() for k, v in accelerator.unwrap_model(model).state_dict().items()}
        save_file(state, out_dir / f"{preset}.safetensors")
        (out_dir / f"{preset}.json").write_text(json.dumps({"losses": losses}))


def main(out_dir: str, *presets: str) -> None:
    out_dir = Path(out_dir)
    accelerator = Accelerator(cpu=True)
    # Unequal row counts (process i holds i + 1 rows) gather into the full tensor in process order.
    rank = accelerator.process_index
    gathered = gather_rows(torch.full((rank + 1, 2), float(rank)))
    expected = torch.cat([torch.full((r + 1, 2), float(r)) for r in range(accelerator.num_processes)])
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "gather.json").write_text(json.dumps({"equal": torch.equal(gathered, expected)}))
    for preset in presets:
        run(preset, accelerator, out_dir)
    accelerator.end_training()


if __name__ == "__main__":
    main(*sys.argv[1:])
