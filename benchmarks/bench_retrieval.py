"""Time and peak memory of ``retrieval_recall`` (R@1..R@50) at the scale of large video datasets.

For each N, N random queries (the "test set") are searched against N random gallery items (the
"training set"), D-dimensional float32 features with random labels from 100 classes. Every N runs
in a child forked from this process after its imports (no 9 s of ``import torch`` per run), so
memory does not accumulate across N: "baseline MiB" is the child's resident memory once the
features exist (imports included), "peak MiB" its peak during the search (VmHWM, reset to the
baseline first), "search MiB" = peak - baseline: what the search adds. "seconds" is wall time,
"CPU s" the CPU time of all threads (a steadier number on a shared machine).

Where the time goes (100k, 512-d, one core): the float32 products, 100k x 100k x 512 multiply-adds
= 10.2 TFLOP, ~120 s at the ~85 GFLOP/s one core reaches, and ``topk`` over the 1e10 similarities,
~3.5 ns each with 8192-wide rows (~4.3 ns with 4096-wide ones), ~35 s; the Python loop and the merge
of the running top-k are negligible (< 1%). The default ``--chunk-size`` 8192 (a 256 MiB block)
makes the top-k rows wider and the blocks fewer than ``retrieval_recall``'s own default 4096.

    python benchmarks/bench_retrieval.py                             # N = 10k, 50k, 100k; 512-d
    python benchmarks/bench_retrieval.py --sizes 2000 --dim 128 --chunk-size 1024
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import torch

from hfvid.evaluation.retrieval import RECALL_KS, retrieval_recall

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked

NUM_CLASSES = 100


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, user + system: unlike wall time, it barely
    moves when other processes share the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_configuration(spec: dict) -> dict:
    """Create the features, then run ``retrieval_recall`` once and time it (in a forked child)."""
    generator = torch.Generator().manual_seed(0)
    size, dim = spec["size"], spec["dim"]
    queries = torch.randn(size, dim, generator=generator)
    gallery = torch.randn(size, dim, generator=generator)
    query_labels = torch.randint(0, NUM_CLASSES, (size,), generator=generator)
    gallery_labels = torch.randint(0, NUM_CLASSES, (size,), generator=generator)
    baseline_kib = proc_status_kib("VmRSS")
    reset_peak_memory()
    start, start_cpu = time.perf_counter(), cpu_seconds()
    recalls = retrieval_recall(queries, query_labels, gallery, gallery_labels, chunk_size=spec["chunk_size"])
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - start_cpu,
        "peak_mib": proc_status_kib("VmHWM") / 1024,
        "baseline_mib": baseline_kib / 1024,
        "recalls": recalls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--chunk-size", type=int, default=8192, help="queries x gallery items per block (default 8192)")
    args = parser.parse_args()

    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, float32; load average {load}")
    print(f"queries = gallery size = N, {args.dim}-d, {NUM_CLASSES} classes, ks {RECALL_KS}, chunk {args.chunk_size}")
    header = (
        f"{'N':>7} {'seconds':>8} {'CPU s':>7} {'peak MiB':>9} {'baseline MiB':>13} {'search MiB':>11} "
        f"{'R@1':>6} {'R@50':>6}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        result = run_forked(run_configuration, {"size": size, "dim": args.dim, "chunk_size": args.chunk_size})
        print(
            f"{size:7d} {result['seconds']:8.1f} {result['cpu_seconds']:7.1f} {result['peak_mib']:9.0f} "
            f"{result['baseline_mib']:13.0f} {result['peak_mib'] - result['baseline_mib']:11.0f} "
            f"{result['recalls']['R@1']:6.3f} {result['recalls']['R@50']:6.3f}",
            flush=True,
        )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f} s wall; load average at the end {load}")


if __name__ == "__main__":
    main()
