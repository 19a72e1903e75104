"""Token dropping in the video ViT (the video-first long-clip recipe): training-step time and peak memory vs the
share of tokens dropped at the encoder input (0, 0.5, 0.75) and vs clip length (8, 16, 32, 64 frames).

For each backbone size (``vit_tiny`` at 32 x 32, ``vit_s`` at 112 x 112 by default), clip length and drop ratio,
a child process forked from this one (imports shared) builds the backbone with position tables for that clip,
as a pre-training model enables it (``token_dropping``, random dropping), and times forward + backward of the
mean-pooled features' squared mean on ``--batch`` random clips: ``--warmup`` untimed steps, then the fastest of
``--steps`` ("step s": wall; "cpu s": the process's CPU time of that step). "step MiB" is the resident memory the
child's first step adds over what was resident before it (VmHWM reset first; the weights are resident, the
activations and gradients are what grows; later steps reuse memory the allocator kept, so only the first one
shows it). "vs 0" is the step time relative to no dropping at that size and length. With ``--device cuda`` the
configurations run one after another in this process (SDPA attention; ``--dtype bfloat16`` under autocast) and
"step MiB" is ``torch.cuda.max_memory_allocated`` of a step above what was allocated before it (the largest over
the steps).

    python benchmarks/bench_token_drop.py                       # tiny and S, 8/16/32/64 frames, 0/0.5/0.75
    python benchmarks/bench_token_drop.py --readme README.md    # also rewrite the table in the README
    python benchmarks/bench_token_drop.py --device cuda --dtype bfloat16 --batch 16 --output docs/results/token_drop_gpu.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import torch

from hfvid.backbones import build_backbone

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked, write_report

SIZES = {"vit_tiny": 32, "vit_s": 112, "vit_b": 224}
START, END = "<!-- bench_token_drop: start -->", "<!-- bench_token_drop: end -->"


def measure(spec: dict) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(spec["threads"])
    device = torch.device(spec["device"])
    base = build_backbone(spec["arch"]).config
    backbone = build_backbone(
        {**base, "image_size": spec["size"], "num_frames": spec["frames"], "token_drop_ratio": spec["ratio"]}
    ).to(device).train()
    backbone.token_dropping = True
    clips = torch.randn(spec["batch"], spec["frames"], 3, spec["size"], spec["size"], device=device)
    times, cpu_times, grown = [], [], []
    for index in range(spec["warmup"] + spec["steps"]):
        backbone.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        else:
            before = proc_status_kib("VmRSS") * 1024
            reset_peak_memory()
        start, cpu_start = time.perf_counter(), time.process_time()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=spec["dtype"] == "bfloat16"):
            pooled = backbone(clips).pooler_output
        pooled.float().square().mean().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else proc_status_kib("VmHWM") * 1024
        grown.append(peak - before)
        if index >= spec["warmup"]:
            times.append(seconds)
            cpu_times.append(cpu_seconds)
    best = min(range(len(times)), key=times.__getitem__)
    tokens = spec["frames"] // base["tubelet_size"] * (spec["size"] // base["patch_size"]) ** 2
    # On CUDA every step's peak is exact (allocator statistics), so the largest counts; on CPU only the first
    # step's growth shows (later steps reuse memory the allocator kept).
    step_bytes = max(grown) if device.type == "cuda" else grown[0]
    return {"step_s": times[best], "cpu_s": cpu_times[best], "step_mib": step_bytes / 2**20, "tokens": tokens,
            "kept": max(1, round(tokens * (1 - spec["ratio"])))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", nargs="+", default=["vit_tiny", "vit_s"], choices=list(SIZES))
    parser.add_argument("--frames", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.0, 0.5, 0.75])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="timed steps; the fastest counts (default 2)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"], help="bfloat16: autocast")
    parser.add_argument("--sizes", type=int, nargs="+", help="frame size per arch, in --archs order (default: "
                        + ", ".join(f"{arch} {size}" for arch, size in SIZES.items()) + ")")
    parser.add_argument("--output", type=Path, help="also write the table, with this command, to this markdown file")
    parser.add_argument("--readme", type=Path, help=f"rewrite the table between {START} and {END} in this file")
    args = parser.parse_args()
    if args.device == "cpu" and not reset_peak_memory():
        raise SystemExit("needs Linux's /proc/self/clear_refs to measure peak memory per step")
    if args.output:
        output, args.output = args.output, None
        write_report(output, "Token dropping: step time and memory", "bench_token_drop.py", sys.argv[1:], lambda: run(args))
        return
    run(args)


def run(args) -> None:
    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    where = f"CPU, {args.threads} torch threads"
    if args.device == "cuda":
        where = f"{torch.cuda.get_device_name()}, torch {torch.__version__}, SDPA"
    header = (
        f"{where}, batch {args.batch}, {args.dtype}, forward + backward, fastest of {args.steps} "
        f"steps after {args.warmup}; load average {load}"
    )
    lines = ["| backbone | clip | tokens kept | drop | step s | cpu s | vs 0 | step MiB |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    print(header)
    sizes = args.sizes or [SIZES[arch] for arch in args.archs]
    for arch, size in zip(args.archs, sizes, strict=True):
        for frames in args.frames:
            reference = None
            for ratio in args.ratios:
                spec = {"arch": arch, "size": size, "frames": frames, "ratio": ratio, "batch": args.batch,
                        "steps": args.steps, "warmup": args.warmup, "threads": args.threads, "device": args.device,
                        "dtype": args.dtype}  # fmt: skip
                # CPU: a forked child each, for its own peak memory; CUDA (no CUDA after fork): in this process,
                # the allocator's peak statistics reset per step.
                result = run_forked(measure, spec) if args.device == "cpu" else measure(spec)
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
        command = "python benchmarks/bench_token_drop.py " + shlex.join(sys.argv[1:])
        block = "\n".join([START, f"`{command.strip()}` ({header}):", "", *lines, END])
        args.readme.write_text(text[: text.index(START)] + block + text[text.index(END) + len(END) :])
        print(f"rewrote the table in {args.readme}")


if __name__ == "__main__":
    main()
