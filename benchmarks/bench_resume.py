"""How long resuming takes, by position in the epoch: the time from `--resume` to the first batch.

    python benchmarks/bench_resume.py                  # 2000 videos (SynthMotion's train split), batch 8
    python benchmarks/bench_resume.py --batch_size 2 --batches 10,999    # batch 10 vs 1000 of the 2000 videos

`training/pretrain.py` records, per DataLoader worker, the rows of the epoch its consumed batches came from, and a
resumed run starts each worker after them without opening those videos again. This measures `make_loader` +
the first batch after resuming at batch 10 and at batch 200 (of 250) of the epoch, and, for comparison, what the
previous way (regenerate and drop every batch already used: every video decoded again) takes at those points.
Run it alone; torch uses one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
import types
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import pretrain  # noqa: E402

from hfvid.presets import load_for_pretraining  # noqa: E402


def first_batch_seconds(args, processor, batches: int, fast: bool) -> float:
    """Seconds from building the loader to the first batch after ``batches`` batches of the epoch were consumed."""
    started = time.perf_counter()
    clips, loader = pretrain.make_loader(args, processor, types.SimpleNamespace(process_index=0, num_processes=1))
    clips.set_epoch(0)
    if fast:
        clips.resume_from({0: batches * args.batch_size})
        next(iter(loader))
    else:
        iterator = iter(loader)
        for _ in range(batches + 1):
            next(iterator)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", default="data/synthmotion")
    parser.add_argument("--batches", default="10,200", help="resume points, in batches of the epoch (0-based)")
    parser.add_argument("--batch_size", type=int, default=8, help="videos per batch (2000 videos: 250 batches of 8)")
    options = parser.parse_args(argv)
    torch.set_num_threads(1)
    args = pretrain.parse_args(["--data_dir", options.data_dir, "--batch_size", str(options.batch_size)])
    _, processor = load_for_pretraining(args.model)
    print(f"{args.model}, batch {args.batch_size}, SynthMotion train split in {options.data_dir}, num_workers 0")
    print("| resume at batch | this version (s) | regenerate and drop (s) |\n|---:|---:|---:|")
    for batches in [int(b) for b in options.batches.split(",")]:
        fast = min(first_batch_seconds(args, processor, batches, fast=True) for _ in range(3))
        slow = first_batch_seconds(args, processor, batches, fast=False)
        print(f"| {batches} | {fast:.2f} | {slow:.2f} |", flush=True)


if __name__ == "__main__":
    main()
