"""Throughput and memory of the pre-training DataLoader that training/pretrain.py builds.

Throughput: ``make_loader`` of training/pretrain.py (``video_stream``: a streamed, shuffled `datasets`
IterableDataset -> `PretrainingClips` -> DataLoader with `collate_pretraining`) over SynthMotion (the
default data of the main job: 256 training videos, 64 x 64, 48 frames; generated once into
``--synthmotion-dir``), with the tiny TransRank preset's processor (7 clips of 8 frames, 32 x 32), for
``--workers`` DataLoader workers; then the same with a tiny-TransRank training step (forward, backward,
AdamW) on every batch, in the main process, as in pretrain.py. Rows:

    loader                the DataLoader alone, main process at torch's default thread count
    loader, 2 processes   two processes at once, each loading its rank's share with num_workers workers and one
                          thread, as `accelerate launch --num_processes 2` runs them; "workers" counts both's
    loader, map-style     --no_streaming: a map-style set turned into an IterableDataset of up to 64 shards
    loader + step         the DataLoader and a training step per batch
    step only             the training step on one fixed batch (no data loading): the model's own limit
    ..., 1 thread         the same with torch.set_num_threads(1) in the main process

"videos/s" is the steady rate after the first batch (wall time: what training sees on this shared
machine); "first batch s" includes starting the workers and filling the shuffle buffer; "CPU ms/video"
is the CPU time of all processes (main + workers), first batch included, per video; "workers" is how
many workers actually ran: `datasets` stops the workers beyond the IterableDataset's shard count.

Memory: a streamed videofolder of N videos (N in ``--memory-sizes``; 32 x 32, 16 frames: a few hundred
real mp4 files hard-linked under N names), in two layouts: "folder" (``<root>/train/<class>/*.mp4``:
`load_video_folder`, an in-memory table of the paths) and "synthmotion" (the same plus metadata.jsonl and
a synthmotion.json manifest, streamed by `hfvid.data.sources.stream_synthmotion`, which reads the
metadata row by row: `datasets`' own streaming videofolder held ~1.4 KiB per video there). Each runs in
a child forked from this process after its imports (where fork and /proc/self/clear_refs exist; else a
fresh interpreter) through ``make_loader`` (num_workers 0, one thread) for ``--memory-samples``
samples: "setup s" is ``make_loader``'s time; "peak MiB" the child's VmHWM (reset at its start; the
imports' resident memory included), "+MiB" its growth over the resident memory at the child's start;
"retained MiB" what the loader holds once the
first batch is out (shuffle buffer full, metadata read): Arrow buffers since before the setup + Python
objects allocated by the first batch (tracemalloc, after a gc.collect(); not during the setup, which it
slows down 2-3 times) - exact, where RSS moves by +-10 MiB from run to run; "2nd half MiB" how resident
memory moved over the second half of the samples (a leak would show there). The loader must not grow
with N: the last lines compare the two sizes.

    python benchmarks/bench_loader.py              # workers 0 1 2, 4 steady batches of 8; 1k vs 10k videos
    python benchmarks/bench_loader.py --quick      # 3 batches; 500 vs 5000 videos, 48 samples
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from bench_decode import cpu_seconds, machine_description, proc_status_kib, reset_peak_memory, run_forked, write_report

from hfvid.data.synthetic import SYNTHMOTION_CLASSES  # noqa: E402

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hfvid" / "bench_loader"
BASE_VIDEOS = 200  # distinct small mp4 files behind the N names of the memory test


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ----------------------------------------------------------------------------- data


def ensure_synthmotion(directory: Path) -> Path:
    """The default SynthMotion set (what ``pretrain.py --dataset synthmotion`` trains on), generated once."""
    from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion

    started = time.perf_counter()
    complete = (directory / "synthmotion.json").is_file()
    generate_synthmotion(directory, SynthMotionConfig(), progress=False)
    if not complete:
        print(f"  generated SynthMotion in {directory} in {time.perf_counter() - started:.0f} s", flush=True)
    return directory


def ensure_memory_sets(cache_dir: Path, sizes: list[int]) -> dict[tuple[str, int], Path]:
    """For each N, a "folder" and a "synthmotion" layout of N videos, hard links (copies where links fail)
    to BASE_VIDEOS real 32 x 32, 16-frame H.264 files."""
    from hfvid.data.encoding import write_mp4

    base = cache_dir / "base"
    base.mkdir(parents=True, exist_ok=True)
    coordinates = np.arange(32)
    for i in range(BASE_VIDEOS):
        path = base / f"{i:04d}.mp4"
        if path.is_file():
            continue
        rng = np.random.default_rng(i)
        speed, tint = 2 + i % 7, rng.integers(0, 40, 3)
        ramp = coordinates[None, :] * (3 + i % 5) + coordinates[:, None] * 2
        frames = np.stack([(ramp[..., None] + speed * t + tint) % 256 for t in range(16)]).astype(np.uint8)
        write_mp4(path, frames, fps=16, crf=20)
    sets = {}
    for n in sizes:
        for layout in ("folder", "synthmotion"):
            root = cache_dir / f"{layout}_{n}"
            sets[layout, n] = root
            if (root / ".complete").is_file():
                continue
            rows = []
            for i in range(n):
                name = f"{SYNTHMOTION_CLASSES[i % len(SYNTHMOTION_CLASSES)]}/{i:05d}.mp4"
                target = root / "train" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    try:
                        os.link(base / f"{i % BASE_VIDEOS:04d}.mp4", target)
                    except OSError:
                        target.write_bytes((base / f"{i % BASE_VIDEOS:04d}.mp4").read_bytes())
                rows.append({"file_name": name, "label": SYNTHMOTION_CLASSES[i % len(SYNTHMOTION_CLASSES)], "seed": i, "speed": 1.0, "object": "disc",
                             "background": "none", "object_size": 0.3, "shift_x_px_per_frame": 0.0, "shift_y_px_per_frame": 0.0,
                             "rotation_deg_per_frame": 0.0, "scale_per_frame": 1.0, "pan_x_px_per_frame": 0.0,
                             "pan_y_px_per_frame": 0.0})  # fmt: skip
            if layout == "synthmotion":  # what load_synthmotion reads: the manifest and the metadata rows
                with open(root / "train" / "metadata.jsonl", "w") as metadata:
                    metadata.writelines(json.dumps(row) + "\n" for row in rows)
                manifest = {
                    "format_version": 1,
                    "classes": list(SYNTHMOTION_CLASSES),
                    "config": {"size": 32, "num_frames": 16},
                    "complete": True,
                }
                (root / "synthmotion.json").write_text(json.dumps(manifest))
            (root / ".complete").write_text("")
    return sets


# ----------------------------------------------------------------------------- measurements


def loader_args(dataset: Path, options: dict):
    import pretrain

    argv = ["--dataset", str(dataset), "--model", options["model"], "--batch_size", str(options["batch_size"]),
            "--num_workers", str(options["workers"]), "--decode_backend", options["backend"]]  # fmt: skip
    return pretrain.parse_args(argv + ([] if options.get("streaming", True) else ["--no_streaming"]))


def training_step(model, optimizer, pixel_values) -> None:
    """What pretrain.py does per batch (no accumulation, fp32): forward with the loss, backward, clip, step, and
    the model's once-per-step hook (absent before the named-views rework, so this script also measures that code)."""
    import torch

    output = model(pixel_values_videos=pixel_values)
    output.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()
    if hasattr(model, "after_optimizer_step"):
        model.after_optimizer_step(1)


def measure_throughput(dataset: str, options: dict) -> dict:
    import pretrain
    import torch

    from hfvid.presets import load_for_pretraining

    if options["threads"]:
        torch.set_num_threads(options["threads"])
    torch.manual_seed(0)
    model, processor = load_for_pretraining(options["model"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3) if options["step"] else None
    model.train()
    if options["loader"] is False:  # the step alone, on one batch drawn once
        _, loader = pretrain.make_loader(
            loader_args(Path(dataset), {**options, "workers": 0}),
            processor,
            types.SimpleNamespace(process_index=0, num_processes=1),
        )
        batch = next(iter(loader))["pixel_values_videos"]
        training_step(model, optimizer, batch)  # warm-up
        start, cpu_start, steps = time.perf_counter(), cpu_seconds(), 0
        while steps < options["batches"] and (steps < 2 or time.perf_counter() - start < options["max_seconds"]):
            training_step(model, optimizer, batch)
            steps += 1
        seconds = time.perf_counter() - start
        videos = steps * len(batch)
        return {"videos_per_s": videos / seconds, "first_batch_s": None, "cpu_ms_per_video": 1000 * (cpu_seconds() - cpu_start) / videos,
                "workers": 0, "threads": torch.get_num_threads(), "videos": videos}  # fmt: skip

    process = types.SimpleNamespace(process_index=options.get("rank", 0), num_processes=options.get("num_processes", 1))
    clips, loader = pretrain.make_loader(loader_args(Path(dataset), options), processor, process)
    start, cpu_start, children_start = time.perf_counter(), cpu_seconds(), children_cpu_seconds()
    batches, epoch = iter(loader), 0

    def next_batch():
        nonlocal batches, epoch
        while True:
            try:
                return next(batches)
            except StopIteration:  # next epoch
                epoch += 1
                clips.set_epoch(epoch)
                batches = iter(loader)

    first = next_batch()
    if options["step"]:
        training_step(model, optimizer, first["pixel_values_videos"])
    first_batch_s = time.perf_counter() - start
    if options.get("barrier") is not None:  # several processes: all start the steady phase together
        options["barrier"].wait()
    steady_start, videos, count = time.perf_counter(), 0, 0
    while count < options["batches"] and (count < 2 or time.perf_counter() - steady_start < options["max_seconds"]):
        batch = next_batch()
        if options["step"]:
            training_step(model, optimizer, batch["pixel_values_videos"])
        videos += len(batch["pixel_values_videos"])
        count += 1
    steady_s = time.perf_counter() - steady_start
    del batches  # shuts the workers down, so that their CPU time is counted
    cpu = cpu_seconds() - cpu_start + children_cpu_seconds() - children_start
    # `datasets` stops the workers beyond the shard count ("Too many dataloader workers ... Stopping ...").
    num_shards = clips.dataset.num_shards
    workers = min(options["workers"], num_shards)
    return {
        "videos_per_s": videos / steady_s,
        "first_batch_s": first_batch_s,
        "cpu_ms_per_video": 1000 * cpu / (videos + len(first["pixel_values_videos"])),
        "workers": workers,
        "threads": torch.get_num_threads(),
        "videos": videos,
        "num_shards": num_shards,
    }


def measure_processes(dataset: str, options: dict, num_processes: int) -> dict:
    """``num_processes`` forked processes at once, each loading its rank's share as under `accelerate launch` (the
    stream split by `datasets.distributed.split_dataset_by_node`, ``options["workers"]`` workers each), their
    steady phases started together: the rates add up; CPU ms/video is the mean over processes."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(num_processes), context.Queue()

    def run(rank: int) -> None:
        results.put(measure_throughput(dataset, {**options, "rank": rank, "num_processes": num_processes, "barrier": barrier}))

    processes = [context.Process(target=run, args=(rank,)) for rank in range(num_processes)]
    for process in processes:
        process.start()
    shares = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    return {
        "videos_per_s": sum(share["videos_per_s"] for share in shares),
        "first_batch_s": max(share["first_batch_s"] for share in shares),
        "cpu_ms_per_video": sum(share["cpu_ms_per_video"] for share in shares) / len(shares),
        "workers": sum(share["workers"] for share in shares),
        "threads": shares[0]["threads"],
        "videos": sum(share["videos"] for share in shares),
    }


def measure_memory(dataset: str, options: dict) -> dict:
    """Run in a forked child (``run_isolated``) or a fresh interpreter (``--memory-run``); VmHWM is reset first."""
    import gc
    import tracemalloc

    import datasets
    import pretrain
    import pyarrow
    import torch

    from hfvid.presets import load_for_pretraining

    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    torch.set_num_threads(1)
    _, processor = load_for_pretraining(options["model"])
    start_kib = proc_status_kib("VmRSS")
    reset_peak_memory()
    arrow_start = pyarrow.total_allocated_bytes()
    started = time.perf_counter()
    clips, loader = pretrain.make_loader(
        loader_args(Path(dataset), {**options, "workers": 0}),
        processor,
        types.SimpleNamespace(process_index=0, num_processes=1),
    )
    setup_s = time.perf_counter() - started
    tracemalloc.start()  # not during the setup, which it would slow down 2-3 times
    batches = iter(loader)
    samples = len(next(batches)["pixel_values_videos"])  # the shuffle buffer is full now
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] + pyarrow.total_allocated_bytes() - arrow_start
    tracemalloc.stop()
    steady_start, steady_samples = time.perf_counter(), samples
    half_kib, epoch = None, 0
    while samples < options["samples"]:
        for batch in batches:
            samples += len(batch["pixel_values_videos"])
            if half_kib is None and samples >= options["samples"] // 2:
                half_kib = proc_status_kib("VmRSS")
            if samples >= options["samples"]:
                break
        else:
            epoch += 1
            clips.set_epoch(epoch)
            batches = iter(loader)
    return {
        "setup_s": setup_s,
        "samples": samples,
        "samples_per_s": (samples - steady_samples) / (time.perf_counter() - steady_start),
        "peak_mib": proc_status_kib("VmHWM") / 1024,
        "start_mib": start_kib / 1024,
        "retained_mib": retained / 2**20,
        "second_half_mib": (proc_status_kib("VmRSS") - (half_kib or start_kib)) / 1024,
    }


def run_isolated(dataset: str, options: dict) -> dict:
    """``measure_memory`` in a child forked from this process (its imports shared: no 9 s of ``import torch``
    per run), or in a new interpreter where fork or /proc/self/clear_refs are missing."""
    if hasattr(os, "fork") and reset_peak_memory():
        return run_forked(measure_memory, dataset, options)
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--memory-run",
        json.dumps({"dataset": dataset, "options": options}),
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"memory run on {dataset} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


# ----------------------------------------------------------------------------- driver


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--synthmotion-dir",
        type=Path,
        default=DEFAULT_CACHE / "synthmotion",
        help=f"SynthMotion set for the throughput runs (generated if missing; default {DEFAULT_CACHE / 'synthmotion'})",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"where the memory-test sets live (default {DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--model", default="transrank-r3d18-tiny", help="preset whose processor (and model, for the step) is used"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0, 1, 2], help="DataLoader num_workers values (default 0 1 2)"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="videos per batch (default 8, pretrain.py's)")
    parser.add_argument("--batches", type=int, default=4, help="steady batches timed after the first one (default 4)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=6.0,
        help="stop a configuration's steady phase after this long, at >= 2 batches (default 6)",
    )
    parser.add_argument("--backend", default="torchcodec", choices=["torchcodec", "pyav"])
    parser.add_argument(
        "--memory-sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="videos in the memory-test sets (default 1000 10000)",
    )
    parser.add_argument(
        "--memory-samples", type=int, default=400, help="samples drawn in each memory run (default 400)"
    )
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3 batches, 5 s cap; 500 vs 5000 videos, 48 samples")
    parser.add_argument("--output", type=Path, help="also write the report to this markdown file (e.g. docs/results/loader.md)")
    parser.add_argument("--memory-run", help=argparse.SUPPRESS)  # JSON {"dataset", "options"}: measure, print JSON
    args = parser.parse_args(argv)
    if args.memory_run:
        spec = json.loads(args.memory_run)
        print(json.dumps(measure_memory(spec["dataset"], spec["options"])))
        return
    if args.quick:
        args.batches, args.max_seconds, args.memory_sizes, args.memory_samples = 3, 5.0, [500, 5000], 48
    if args.output:
        output, args.output = args.output, None
        argv = sys.argv[1:] if argv is None else argv
        write_report(output, "DataLoader throughput and memory", "bench_loader.py", argv, lambda: main_with(args))
        return
    main_with(args)


def main_with(args) -> None:
    """The benchmark for parsed ``args``."""
    started = time.perf_counter()
    import datasets
    import pretrain  # noqa: F401  (imports shared by the forked children)
    import torch

    from hfvid.presets import load_for_pretraining

    datasets.logging.set_verbosity_error()  # the "Too many dataloader workers" warning: the "workers" column says it
    datasets.disable_progress_bars()
    _, processor = load_for_pretraining(args.model)
    print("\n".join(machine_description()))
    print(f"model {args.model}: {len(processor.transformations)} clips ({', '.join(processor.transformations)}) of "
          f"{processor.num_frames} frames at {processor.crop_size.height} x {processor.crop_size.width} per video; "
          f"batch {args.batch_size}; decode backend {args.backend}; torch default threads {torch.get_num_threads()}", flush=True)  # fmt: skip

    if not args.skip_throughput:
        dataset = str(ensure_synthmotion(args.synthmotion_dir))
        common = {
            "model": args.model,
            "batch_size": args.batch_size,
            "backend": args.backend,
            "batches": args.batches,
            "max_seconds": args.max_seconds,
        }
        rows = []
        for workers in args.workers:
            rows.append(("loader", {"workers": workers, "threads": None, "step": False, "loader": True}))
        if 0 in args.workers:
            rows.append(("loader, 1 thread", {"workers": 0, "threads": 1, "step": False, "loader": True}))
        for workers in args.workers:  # as `accelerate launch --num_processes 2`: each process its share
            rows.append(("loader, 2 processes", {"workers": workers, "threads": 1, "step": False, "loader": True, "processes": 2}))
        rows.append(
            (
                "loader, map-style",
                {"workers": max(args.workers), "threads": None, "step": False, "loader": True, "streaming": False},
            )
        )
        for workers in args.workers:
            rows.append(("loader + step", {"workers": workers, "threads": None, "step": True, "loader": True}))
        if 0 in args.workers:
            rows.append(("loader + step, 1 thread", {"workers": 0, "threads": 1, "step": True, "loader": True}))
        rows.append(("step only", {"workers": 0, "threads": None, "step": True, "loader": False}))
        rows.append(("step only, 1 thread", {"workers": 0, "threads": 1, "step": True, "loader": False}))
        print(
            f"\nthroughput: SynthMotion train split ({dataset}), 1 + up to {args.batches} batches per row "
            f"(steady phase capped at {args.max_seconds:g} s); load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        header = "{:24} {:>11} {:>8} {:>8} {:>10} {:>8} {:>13}"
        print(
            header.format("configuration", "num_workers", "workers", "threads", "videos/s", "clips/s", "first batch s")
            + "  CPU ms/video"
        )
        for name, options in rows:
            if options.get("processes", 1) > 1:
                result = run_forked(measure_processes, dataset, {**common, **options}, options["processes"])
            else:
                result = run_forked(measure_throughput, dataset, {**common, **options})
            first = "-" if result["first_batch_s"] is None else f"{result['first_batch_s']:.2f}"
            print(
                header.format(name, options["workers"], result["workers"], result["threads"], f"{result['videos_per_s']:.1f}",
                              f"{result['videos_per_s'] * len(processor.transformations):.0f}", first)
                + f"  {result['cpu_ms_per_video']:.0f}",
                flush=True,
            )  # fmt: skip

    if not args.skip_memory:
        sets = ensure_memory_sets(args.cache_dir, args.memory_sizes)
        print(f"\nmemory: streamed videofolder, 32 x 32 x 16-frame videos, num_workers 0, 1 thread, {args.memory_samples} samples "
              f"per run, shuffle buffer 1000, a child process per run; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        header = "{:12} {:>7} {:>8} {:>9} {:>9} {:>7} {:>13} {:>12}"
        print(
            header.format(
                "layout", "videos", "setup s", "samples/s", "peak MiB", "+MiB", "retained MiB", "2nd half MiB"
            )
        )
        results = {}
        for (layout, n), root in sets.items():
            options = {
                "model": args.model,
                "batch_size": args.batch_size,
                "backend": args.backend,
                "samples": args.memory_samples,
            }
            result = results[layout, n] = run_isolated(str(root), options)
            print(header.format(layout, n, f"{result['setup_s']:.1f}", f"{result['samples_per_s']:.0f}", f"{result['peak_mib']:.0f}",
                                f"{result['peak_mib'] - result['start_mib']:.0f}", f"{result['retained_mib']:.1f}",
                                f"{result['second_half_mib']:+.1f}"), flush=True)  # fmt: skip
        small, large = min(args.memory_sizes), max(args.memory_sizes)
        for layout in ("folder", "synthmotion") if large > small else ():
            peak = results[layout, large]["peak_mib"] - results[layout, small]["peak_mib"]
            retained = results[layout, large]["retained_mib"] - results[layout, small]["retained_mib"]
            per_video = 1024 * retained / (large - small)
            verdict = "flat" if per_video < 0.25 else "GROWS with the data set"
            print(f"{layout}: {large} vs {small} videos: peak RSS {peak:+.1f} MiB, retained {retained:+.1f} MiB "
                  f"({per_video:+.2f} KiB per extra video): {verdict} (flat: < 0.25 KiB per video)")  # fmt: skip

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f} s wall; load average at the end {load}")


if __name__ == "__main__":
    main()
