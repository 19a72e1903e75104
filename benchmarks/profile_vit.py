"""Where a video ViT's training step spends its time, against transformers' VideoMAE encoder of the same size.

``bench_model.py`` measures hfvid's ViT-B at 0.88x VideoMAE's speed in bf16 on an H200 (and 1.08x, 1.18x at the
tiny and S sizes). This script says why: it times forward + backward of both models (same input, steps
interleaved, best and median of ``--steps``), each also with every SDPA backend forced in turn (flash, memory
efficient, cuDNN: which one each model gets by default shows as the row it matches), and writes the profiler's
kernel table of one step of each (self device time, top ``--rows``), so a gap shows as the kernels that differ.
"hfvid before" is the ViT as it was before this script found the gap (its residual stream laid out transposed in
memory), timed in the same run.

    python benchmarks/profile_vit.py --device cuda --arch vit_b --batch 32 --output OUT_DIR
    python benchmarks/profile_vit.py --device cpu --arch vit_tiny --batch 2 --frames 8 --size 32 --steps 2 --output /tmp/p

Writes OUT_DIR/profile_vit.md (the timing table and both kernel tables).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import shlex
import statistics
import sys
import time
import types
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import hfvid_backbone, videomae_encoder

BACKENDS = {
    "default": None,
    "flash": SDPBackend.FLASH_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "cudnn": SDPBackend.CUDNN_ATTENTION,
}


def transposed_stream_forward(self, pixel_values_videos):
    """The embeddings as hfvid had them before 2026-11-26: tokens a transposed view of the patch convolution's output,
    so the residual stream stays laid out as (B, D, N) through every block."""
    patches = self.patch_embedding(pixel_values_videos.transpose(1, 2))
    grid = tuple(patches.shape[2:])
    tokens = patches.flatten(2).transpose(1, 2)
    return tokens + self.positions(grid).to(tokens.dtype), grid


def previous_version(model):
    """A copy of hfvid's ViT with the embeddings of before 2026-11-26 (same weights, same outputs)."""
    model = copy.deepcopy(model)
    model.embeddings.forward = types.MethodType(transposed_stream_forward, model.embeddings)
    return model


def pooled(name: str, model, clips: torch.Tensor) -> torch.Tensor:
    """The mean of the last tokens, as bench_model.py pools both (clips: B, T, C, H, W)."""
    if name == "VideoMAE":  # its encoder, no final norm (use_mean_pooling)
        return model(clips).last_hidden_state.mean(dim=1)
    return model(clips).pooler_output


def step(name: str, model, clips: torch.Tensor, dtype: torch.dtype | None, backend) -> None:
    with torch.autocast(clips.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        with sdpa_kernel(backend) if backend is not None else contextlib.nullcontext():
            pooled(name, model, clips).float().square().mean().backward()
    model.zero_grad(set_to_none=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--arch", default="vit_b")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bfloat16" else None
    torch.manual_seed(0)
    clips = torch.randn(args.batch, args.frames, 3, args.size, args.size, device=device)
    models = {
        "VideoMAE": videomae_encoder(args.arch, args.frames, args.size).to(device).train(),
        "hfvid": hfvid_backbone(args.arch, args.frames, args.size).to(device).train(),
    }
    models["hfvid before"] = previous_version(models["hfvid"])
    backends = BACKENDS if device.type == "cuda" else {"default": None}
    runs = {}
    for name, model in models.items():
        for backend_name, backend in backends.items():
            if backend is not None and name == "hfvid before":  # the previous version with the default backend only
                continue
            try:
                step(name, model, clips, dtype, backend)
            except RuntimeError as error:  # a backend that does not take this input
                print(f"{name} with {backend_name}: {str(error).splitlines()[0]}", flush=True)
                continue
            runs[(name, backend_name)] = {"model": model, "backend": backend, "seconds": [], "enqueue": []}

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    keys = list(runs)
    for round_index in range(args.warmup + args.steps):
        for key in keys if round_index % 2 == 0 else keys[::-1]:
            run = runs[key]
            synchronize()
            start = time.perf_counter()
            step(key[0], run["model"], clips, dtype, run["backend"])
            enqueued = time.perf_counter()
            synchronize()
            if round_index >= args.warmup:
                run["seconds"].append(time.perf_counter() - start)
                run["enqueue"].append(enqueued - start)
        print(f"round {round_index + 1}/{args.warmup + args.steps}", flush=True)
    reference = min(runs[("VideoMAE", "default")]["seconds"])
    lines = [
        f"{'model':<12} {'SDPA backend':<12} {'best ms':>8} {'median ms':>9} {'enqueue ms':>10} {'vs VideoMAE':>11}",
    ]
    for (name, backend_name), run in runs.items():
        best = min(run["seconds"])
        lines.append(
            f"{name:<12} {backend_name:<12} {1000 * best:>8.2f} {1000 * statistics.median(run['seconds']):>9.2f} "
            f"{1000 * statistics.median(run['enqueue']):>10.2f} {reference / best:>11.3f}"
        )
    table = "\n".join(lines)
    print(table, flush=True)

    activities = [torch.profiler.ProfilerActivity.CPU]
    sort_by = "self_cpu_time_total"
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
        sort_by = "self_device_time_total"
    profiles = []
    for name in ("VideoMAE", "hfvid"):
        model = models[name]
        with torch.profiler.profile(activities=activities) as profiler:
            step(name, model, clips, dtype, None)
            synchronize()
        profiles.append(f"## {name}, one step, default SDPA backend\n\n```\n"
                        f"{profiler.key_averages().table(sort_by=sort_by, row_limit=args.rows, max_name_column_width=70)}\n```")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    environment = f"torch {torch.__version__}"
    if device.type == "cuda":
        environment += f", {torch.cuda.get_device_name()}"
    command = "python benchmarks/profile_vit.py " + shlex.join(sys.argv[1:])
    (output / "profile_vit.md").write_text(
        f"# A video ViT's training step against VideoMAE's, by SDPA backend and by kernel\n\nWritten by `{command}` "
        f"({environment}); {args.arch}, batch {args.batch} x {args.frames} x {args.size} x {args.size}, {args.dtype}, "
        f"{args.warmup} warm-up + {args.steps} timed steps interleaved. \"enqueue\": the time until the step's last "
        f"kernel is queued (near the step's time: the step waits on the CPU).\n\n```\n{table}\n```\n\n"
        + "\n\n".join(profiles) + "\n"
    )


if __name__ == "__main__":
    main()
