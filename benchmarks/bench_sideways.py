"""Sideways vs backpropagation through time: peak memory and step time against clip length, and pipelined
(frame-by-frame) inference against whole-clip inference.

    python benchmarks/bench_sideways.py                     # ~3 min on 2 cores; writes docs/results/sideways.md

Training rows: one training step (forward + backward of `SidewaysForVideoClassification`, the classifier's loss at
every step with a frame at the top) on a batch of random clips, each row in a forked child: after a warm-up step
(glibc set to return every block of 64 KiB or more when freed), its peak resident memory is reset; "memory" is the
peak of the next step minus the memory before it (the model, its gradients and the clip excepted). Times: best of ``--rounds``, one torch thread, in the same run. The network is the
frame-wise ResNet of widths 16-128, one block per stage (5 units, delay 4), at 64 px, so that activations dominate.

Inference rows: the same network in eval mode over a clip of ``--stream_frames`` frames: whole-clip (one forward
over all frames) vs streamed (one call per frame, `FramewiseStream`); time per frame, frames per second, and the
latency in frames (how many frames arrive after frame t before its features exist).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import shlex
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked  # noqa: E402

from hfvid.backbones.framewise import FramewiseStream  # noqa: E402
from hfvid.models.sideways import SidewaysConfig, SidewaysForVideoClassification  # noqa: E402

BACKBONE = {"arch": "framewise", "in_channels": 3, "layers": [1, 1, 1, 1], "widths": [16, 32, 64, 128], "stem_width": 16,
            "stem_stride": 1, "temporal_skips": False}  # fmt: skip
MODES = {"BPTT": ("bptt", False), "Sideways": ("sideways", False), "BPTT + skips": ("bptt", True), "Skip-Sideways": ("sideways", True)}


def model_for(mode: str, frames: int, size: int) -> SidewaysForVideoClassification:
    training_mode, skips = MODES[mode]
    torch.manual_seed(0)
    config = SidewaysConfig(backbone={**BACKBONE, "temporal_skips": skips}, training_mode=training_mode, num_frames=frames,
                            image_size=size, num_labels=8, classifier_dropout=0.0)  # fmt: skip
    return SidewaysForVideoClassification(config).train()


def training_row(mode: str, frames: int, batch: int, size: int, rounds: int) -> dict:
    """In a forked child: peak memory of one training step above the memory before it, and the best step time."""
    torch.set_num_threads(1)
    # glibc returns blocks of 64 KiB and more to the system when freed (no dynamic threshold), so the resident
    # memory after the warm-up step is the model's, not a cache of the step's buffers.
    ctypes.CDLL("libc.so.6").mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD
    model = model_for(mode, frames, size)
    clips, labels = torch.randn(batch, frames, 3, size, size), torch.randint(0, 8, (batch,))
    model(clips, labels=labels).loss.backward()  # warm-up: kernels, thread pool, gradient buffers
    before = proc_status_kib("VmRSS")
    reset_peak_memory()
    model(clips, labels=labels).loss.backward()
    peak = proc_status_kib("VmHWM") - before
    times = []
    for _ in range(rounds):
        model.zero_grad(set_to_none=False)
        start = time.perf_counter()
        model(clips, labels=labels).loss.backward()
        times.append(time.perf_counter() - start)
    return {"mode": mode, "frames": frames, "memory_mib": peak / 1024, "seconds": min(times)}


def inference_rows(frames: int, size: int, rounds: int) -> list[dict]:
    torch.set_num_threads(1)
    model = model_for("BPTT", frames, size).eval()
    clip = torch.randn(1, frames, 3, size, size)
    whole, streamed = [], []
    with torch.no_grad():
        for _ in range(rounds):
            start = time.perf_counter()
            model(clip)
            whole.append(time.perf_counter() - start)
            stream = FramewiseStream(model.base_model.backbone)
            start = time.perf_counter()
            for t in range(frames):
                stream(clip[:, t])
            streamed.append(time.perf_counter() - start)
    delay = model.base_model.backbone.delay
    return [
        {"way": "whole clip (one forward)", "ms_per_frame": 1000 * min(whole) / frames, "fps": frames / min(whole),
         "latency": f"{frames - 1} (frame 0 waits for the whole clip) to 0"},
        {"way": "streamed (`FramewiseStream`, one call per frame)", "ms_per_frame": 1000 * min(streamed) / frames,
         "fps": frames / min(streamed), "latency": f"{delay} (the pipeline's depth), every frame"},
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", default="8,32,128", help="comma-separated clip lengths")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stream_frames", type=int, default=64)
    parser.add_argument("--output", default="docs/results/sideways.md")
    args = parser.parse_args(argv)

    rows = []
    for frames in map(int, args.frames.split(",")):
        for mode in MODES:
            row = run_forked(training_row, mode, frames, args.batch, args.size, args.rounds)
            print(json.dumps(row), flush=True)
            rows.append(row)
    inference = run_forked(inference_rows, args.stream_frames, args.size, args.rounds)

    lines = [
        "<!-- written by: python benchmarks/bench_sideways.py " + shlex.join(argv or sys.argv[1:]) + " -->",
        "# Sideways vs backpropagation through time: memory, step time, pipelined inference",
        "",
        f"Frame-wise ResNet {BACKBONE['widths']}, one block per stage (5 units, delay 4), {args.size} px, batch {args.batch}, "
        f"one torch thread; one training step (forward + backward), memory = peak resident memory of the step above "
        f"the memory before it; time = best of {args.rounds}.",
        "",
        "| clip frames | " + " | ".join(f"{mode} memory (MiB)" for mode in MODES) + " | " + " | ".join(f"{mode} step (s)" for mode in MODES) + " |",
        "|---:|" + "---:|" * (2 * len(MODES)),
    ]
    for frames in map(int, args.frames.split(",")):
        by_mode = {row["mode"]: row for row in rows if row["frames"] == frames}
        memory = " | ".join(f"{by_mode[mode]['memory_mib']:.1f}" for mode in MODES)
        seconds = " | ".join(f"{by_mode[mode]['seconds']:.3f}" for mode in MODES)
        lines.append(f"| {frames} | {memory} | {seconds} |")
    lines += [
        "",
        f"Inference, {args.stream_frames}-frame clip, batch 1, eval mode:",
        "",
        "| inference | ms per frame | frames per second | latency (frames) |",
        "|---|---:|---:|---|",
        *(f"| {row['way']} | {row['ms_per_frame']:.2f} | {row['fps']:.0f} | {row['latency']} |" for row in inference),
    ]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
