"""Token dropping in the video ViT (the video-first long-clip recipe): training-step time and peak memory vs the
share of tokens dropped at the encoder input (0, 0.5, 0.75) and vs clip length (8, 16, 32, 64 frames).

For each backbone size (``vit_tiny`` at 32 x 32, ``vit_s`` at 112 x 112 by default), clip length and drop ratio,
a child process forked from this one (imports shared) builds the backbone with position tables for that clip,
as a pre-training model enables it (``token_dropping``, random dropping), and times forward + backward of the
mean-pooled features' squared mean on ``--batch`` random clips: ``--warmup`` untimed steps, then the fastest of
``--steps`` ("step s": wall; "cpu s": the process's CPU time of that step). "step MiB" is the resident memory the
child's first step adds over what was resident before it (VmHWM reset first; the weights are resident, the
activations and gradients are what grows; later steps reuse memory the allocator kept, so only the first one
shows it). "vs 0" is the step time relative to no dropping at that size and length.

    python benchmarks/bench_token_drop.py                       # tiny and S, 8/16/32/64 frames, 0/0.5/0.75
    python benchmarks/bench_token_drop.py --readme README.md    # also rewrite the table in the README
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from hfvid.backbones import build_backbone

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked

SIZES = {"vit_tiny": 32, "vit_s": 112}
START, END = "<!-- bench_token_drop: start -->", "<!-- bench_token_drop: end -->"


def measure(spec: dict) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(spec["threads"])
    base = build_backbone(spec["arch"]).config
    backbone = build_backbone(
        {**base, "image_size": spec["size"], "num_frames": spec["frames"], "token_drop_ratio": spec["ratio"]}
    ).train()
    backbone.token_dropping = True
    clips = torch.randn(spec["batch"], spec["frames"], 3, spec["size"], spec["size"])
    times, cpu_times, grown = [], [], []
    for index in range(spec["warmup"] + spec["steps"]):
        backbone.zero_grad(set_to_none=True)
        before = proc_status_kib("VmRSS") * 1024
        reset_peak_memory()
        start, cpu_start = time.perf_counter(), time.process_time()
        backbone(clips).pooler_output.square().mean().backward()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        peak = proc_status_kib("VmHWM") * 1024
        grown.append(peak - before)
        if index >= spec["warmup"]:
            times.append(seconds)
            cpu_times.append(cpu_seconds)
    best = min(range(len(times)), key=times.__getitem__)
    tokens = spec["frames"] // base["tubelet_size"] * (spec["size"] // base["patch_size"]) ** 2
    return {"step_s": times[best], "cpu_s": cpu_times[best], "step_mib": grown[0] / 2**20, "tokens": tokens,
            "kept": max(1, round(tokens * (1 - spec["ratio"])))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--frames", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.0, 0.5, 0.75])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="timed steps; the fastest counts (default 2)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--readme", type=Path, help=f"rewrite the table between {START} and {END} in this file")
    args = parser.parse_args()
    if not reset_peak_memory():
        raise SystemExit("needs Linux's /proc/self/clear_refs to measure peak memory per step")

    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    header = (
        f"CPU, {args.threads} torch threads, batch {args.batch}, float32, forward + backward, fastest of {args.steps} "
        f"steps after {args.warmup}; load average {load}"
    )
    lines = ["| backbone | clip | tokens kept | drop | step s | cpu s | vs 0 | step MiB |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    print(header)
    for arch in args.archs:
        size = SIZES[arch]
        for frames in args.frames:
            reference = None
            for ratio in args.ratios:
                spec = {"arch": arch, "size": size, "frames": frames, "ratio": ratio, "batch": args.batch,
                        "steps": args.steps, "warmup": args.warmup, "threads": args.threads}  # fmt: skip
                result = run_forked(measure, spec)
                reference = result["step_s"] if ratio == 0 else reference
                relative = f"{result['step_s'] / reference:.2f}" if reference else "-"
                line = (
                    f"| {arch} | {frames} x {size} x {size} | {result['kept']} / {result['tokens']} | {ratio:g} | "
                    f"{result['step_s']:.3f} | {result['cpu_s']:.3f} | {relative} | {result['step_mib']:.1f} |"
                )
                lines.append(line)
                print(line, flush=True)
    footer = f"total {time.perf_counter() - started:.0f} s wall"
    print(footer)
    if args.readme:
        text = args.readme.read_text()
        if START not in text or END not in text:
            raise SystemExit(f"{args.readme} has no {START} ... {END} section")
        command = "python benchmarks/bench_token_drop.py " + " ".join(sys.argv[1:])
        block = "\n".join([START, f"`{command.strip()}` ({header}):", "", *lines, END])
        args.readme.write_text(text[: text.index(START)] + block + text[text.index(END) + len(END) :])
        print(f"rewrote the table in {args.readme}")


if __name__ == "__main__":
    main()
