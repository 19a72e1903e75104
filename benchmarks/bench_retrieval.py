"""Time and peak memory of ``retrieval_recall`` (R@1..R@50) at the scale of large video datasets.

For each N, N random queries (the "test set") are searched against N random gallery items (the
"training set"), D-dimensional float32 features with random labels from 100 classes. Every run is
a fresh subprocess, so peak RSS (``ru_maxrss``) does not accumulate across N; a baseline
subprocess that only imports torch and hfvid and creates the same features gives "baseline MiB",
and "search MiB" = run peak - baseline peak is what the search adds. "seconds" is
wall time, "CPU s" the CPU time of all threads (a steadier number on a shared machine).

    python benchmarks/bench_retrieval.py                             # N = 10k, 50k, 100k; 512-d
    python benchmarks/bench_retrieval.py --sizes 2000 --dim 128 --chunk-size 1024
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from hfvid.evaluation.retrieval import RECALL_KS, retrieval_recall

NUM_CLASSES = 100


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, user + system: unlike wall time, it barely
    moves when other processes share the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_configuration(spec: dict) -> dict:
    """Create the features; unless ``spec["baseline"]``, run ``retrieval_recall`` once and time it."""
    generator = torch.Generator().manual_seed(0)
    size, dim = spec["size"], spec["dim"]
    queries = torch.randn(size, dim, generator=generator)
    gallery = torch.randn(size, dim, generator=generator)
    query_labels = torch.randint(0, NUM_CLASSES, (size,), generator=generator)
    gallery_labels = torch.randint(0, NUM_CLASSES, (size,), generator=generator)
    if spec["baseline"]:
        return {"peak_mib": peak_rss_mib()}
    start, start_cpu = time.perf_counter(), cpu_seconds()
    recalls = retrieval_recall(queries, query_labels, gallery, gallery_labels, chunk_size=spec["chunk_size"])
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - start_cpu,
        "peak_mib": peak_rss_mib(),
        "recalls": recalls,
    }


def run_in_subprocess(spec: dict) -> dict:
    command = [sys.executable, __file__, "--configuration", json.dumps(spec)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--configuration", help=argparse.SUPPRESS)  # JSON spec: run one, print JSON
    args = parser.parse_args()
    if args.configuration:
        print(json.dumps(run_configuration(json.loads(args.configuration))))
        return

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, float32")
    print(f"queries = gallery size = N, {args.dim}-d, {NUM_CLASSES} classes, ks {RECALL_KS}, chunk {args.chunk_size}")
    header = (
        f"{'N':>7} {'seconds':>8} {'CPU s':>7} {'peak MiB':>9} {'baseline MiB':>13} {'search MiB':>11} "
        f"{'R@1':>6} {'R@50':>6}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        spec = {"size": size, "dim": args.dim, "chunk_size": args.chunk_size}
        baseline = run_in_subprocess({**spec, "baseline": True})
        result = run_in_subprocess({**spec, "baseline": False})
        print(
            f"{size:7d} {result['seconds']:8.1f} {result['cpu_seconds']:7.1f} {result['peak_mib']:9.0f} "
            f"{baseline['peak_mib']:13.0f} {result['peak_mib'] - baseline['peak_mib']:11.0f} "
            f"{result['recalls']['R@1']:6.3f} {result['recalls']['R@50']:6.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
