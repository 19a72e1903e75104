"""Masked and predictive pre-training of transformers' video ViTs: training-step time and peak memory of VideoMAE vs
the mask ratio, and of V-JEPA (two multi-block target masks), against the same encoder on every token (what a
supervised or contrastive step of that ViT costs).

For each size (the ``-vit-tiny`` presets at 8 x 32 x 32; ``videomae-vit-s`` at 16 x 112 x 112 by default,
``--s_size 224`` for VideoMAE's own 16 x 224 x 224; V-JEPA's ``vjepa-vit-b`` with ``--vjepa_b``) a child process
forked from this one builds the model from the hfvid preset and times forward + backward of its loss on ``--batch``
random clips: VideoMAE (transformers' `VideoMAEForPreTraining`) with tube masks of each ratio, V-JEPA (hfvid's
`VJEPAForPreTraining`: the context encoder once per target mask on the context tokens, the EMA target encoder on the
whole clip without gradient, the predictor) with masks drawn by its processor. ``--warmup`` untimed steps, then the
fastest of ``--steps`` ("step s": wall; "cpu s": the process's CPU time). The "encoder, all tokens" row times the
method's bare encoder (no mask, no decoder or predictor) on the mean of its last hidden state. "step MiB" is the
resident memory the first step adds (VmHWM reset first), as in bench_token_drop.py. "vs all" is the step time
relative to that row.

    python benchmarks/bench_masked_pretraining.py
    python benchmarks/bench_masked_pretraining.py --output docs/results/masked_speed.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers import VideoMAEForPreTraining, VideoMAEModel, VJEPA2Model

import hfvid
from hfvid.data.masks import tube_mask
from hfvid.models.vjepa import VJEPAForPreTraining
from hfvid.presets import processor_for_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked


def measure(spec: dict) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(spec["threads"])
    config = hfvid.get_config(spec["preset"], image_size=spec["size"], num_frames=spec["frames"])
    clips = torch.randn(spec["batch"], spec["frames"], 3, spec["size"], spec["size"])
    rng = np.random.default_rng(0)
    vjepa = spec["preset"].startswith("vjepa")
    if spec["ratio"] is None and vjepa:
        model = VJEPA2Model(config).train()
        step = lambda: model(pixel_values_videos=clips, skip_predictor=True).last_hidden_state.mean().backward()  # noqa: E731
    elif spec["ratio"] is None:
        model = VideoMAEModel(config).train()
        step = lambda: model(pixel_values=clips).last_hidden_state.mean().backward()  # noqa: E731
    elif vjepa:
        model = VJEPAForPreTraining(config).train()
        processor = processor_for_config(config)
        masks = torch.stack([processor.sample_masks(rng)["target_masks"] for _ in clips])
        step = lambda: model(pixel_values_videos=clips, target_masks=masks).loss.backward()  # noqa: E731
    else:
        model = VideoMAEForPreTraining(config).train()
        masks = torch.from_numpy(np.stack([tube_mask(config.token_grid, spec["ratio"], rng) for _ in clips]))
        step = lambda: model(pixel_values=clips, bool_masked_pos=masks).loss.backward()  # noqa: E731
    times, cpu_times, grown = [], [], []
    for index in range(spec["warmup"] + spec["steps"]):
        model.zero_grad(set_to_none=True)
        before = proc_status_kib("VmRSS") * 1024
        reset_peak_memory()
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        grown.append(proc_status_kib("VmHWM") * 1024 - before)
        if index >= spec["warmup"]:
            times.append(seconds)
            cpu_times.append(cpu_seconds)
    best = min(range(len(times)), key=times.__getitem__)
    tokens = int(np.prod(config.token_grid))
    if spec["ratio"] is None:
        visible = str(tokens)
    elif vjepa:  # the context of each mask, as the context encoder sees it (cut to the batch's smallest)
        visible = " + ".join(str(int((~masks[:, i]).sum(dim=1).min())) for i in range(masks.shape[1]))
    else:
        visible = str(tokens - round(spec["ratio"] * config.token_grid[1] * config.token_grid[2]) * config.token_grid[0])
    return {"step_s": times[best], "cpu_s": cpu_times[best], "step_mib": grown[0] / 2**20, "tokens": tokens, "visible": visible}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.5, 0.75, 0.9])
    parser.add_argument("--s_size", type=int, default=112, help="frame side of the S size (VideoMAE: 224)")
    parser.add_argument("--vjepa_b", action="store_true", help="also V-JEPA's ViT-B at 16 x 224 x 224")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps; the fastest counts (default 3)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--output", type=Path, help="also write the table, with its command, to this markdown file")
    args = parser.parse_args()
    if not reset_peak_memory():
        raise SystemExit("needs Linux's /proc/self/clear_refs to measure peak memory per step")
    sizes = [("videomae-vit-tiny", 8, 32), ("videomae-vit-s", 16, args.s_size), ("vjepa-vit-tiny", 8, 32)]
    sizes += [("vjepa-vit-b", 16, 224)] if args.vjepa_b else []
    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    header = (
        f"CPU, {args.threads} torch threads, batch {args.batch}, float32, forward + backward, fastest of {args.steps} "
        f"steps after {args.warmup}; load average {load}"
    )
    lines = ["| preset | clip | step | encoder tokens (per pass) | step s | cpu s | vs all | step MiB |",
             "|---|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    print(header)
    for preset, frames, size in sizes:
        reference = None
        for ratio in [None, "masks"] if preset.startswith("vjepa") else [None, *args.ratios]:
            spec = {"preset": preset, "frames": frames, "size": size, "ratio": ratio, "batch": args.batch,
                    "steps": args.steps, "warmup": args.warmup, "threads": args.threads}  # fmt: skip
            result = run_forked(measure, spec)
            reference = result["step_s"] if ratio is None else reference
            if ratio is None:
                name = "encoder, all tokens"
            else:
                name = "V-JEPA, short + long masks" if ratio == "masks" else f"VideoMAE, mask {ratio:g}"
            line = (
                f"| {preset} | {frames} x {size} x {size} | {name} | {result['visible']} / {result['tokens']} | "
                f"{result['step_s']:.3f} | {result['cpu_s']:.3f} | {result['step_s'] / reference:.2f} | {result['step_mib']:.1f} |"
            )
            lines.append(line)
            print(line, flush=True)
    print(f"total {time.perf_counter() - started:.0f} s wall")
    if args.output:
        command = "python benchmarks/bench_masked_pretraining.py " + shlex.join(sys.argv[1:])
        args.output.write_text("\n".join([f"`{command.strip()}` ({header}):", "", *lines]) + "\n")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
