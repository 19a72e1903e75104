"""How many classes a pre-training batch holds: the stream `training/pretrain.py` reads, through DataLoader workers.

Each DataLoader worker streams its own shards of a `datasets` IterableDataset through its own shuffle buffer and
makes whole batches from them. When a shard is a run of rows of one class (SynthMotion's metadata and class folders
are sorted by class), a worker's batches hold few classes; BatchNorm then normalises within a few classes, and
NextFrame's main job learnt less with 8 workers (the GPU scripts' setting) than with none (docs/learning.md,
session 17). This benchmark reads only the labels (nothing is decoded) of ``pretrain.py``'s own stream
(`hfvid.cli.pretrain.video_stream`, the run's shuffle seed and buffer) for each worker count, and prints the mean
number of distinct classes in a batch beside that of batches drawn at random from the same labels.

    python benchmarks/bench_batch_mix.py                          # the main job's SynthMotion, 0 / 2 / 8 workers, ~1 min
    python benchmarks/bench_batch_mix.py --dataset path/to/folder --workers 0,4
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from torch.utils.data import DataLoader, IterableDataset

from hfvid.cli.pretrain import parse_args as pretrain_args
from hfvid.cli.pretrain import video_stream


class Labels(IterableDataset):
    """The ``label`` of every row of ``stream``."""

    def __init__(self, stream):
        self.stream = stream

    def __iter__(self):
        for row in self.stream:
            if row.get("label") is None:
                raise ValueError(f"a row of the stream has no label ({sorted(row)}): classes per batch need labels")
            yield int(row["label"])


def classes_per_batch(stream, workers: int, batch_size: int) -> tuple[float, np.ndarray]:
    """Mean distinct classes per batch over one epoch of ``stream`` with ``workers`` workers, and all its labels."""
    loader = DataLoader(Labels(stream), batch_size=batch_size, num_workers=workers, drop_last=True)
    batches = [batch.numpy() for batch in loader]
    return float(np.mean([len(np.unique(batch)) for batch in batches])), np.concatenate(batches)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="0,2,8", help="comma-separated DataLoader worker counts")
    args, rest = parser.parse_known_args(argv)
    run = pretrain_args(rest)  # pretrain.py's own options: --dataset, --data_dir, --batch_size, --seed, --shuffle_buffer, ...
    print(f"{run.dataset}, batches of {run.batch_size}, shuffle buffer {run.shuffle_buffer}, seed {run.seed}")
    print(f"{'workers':>7}  {'batches':>7}  {'classes per batch':>17}  {'random batches':>14}  {'seconds':>7}")
    for workers in [int(w) for w in args.workers.split(",")]:
        started = time.perf_counter()
        stream = video_stream(run, rank=0, world_size=1)
        mean, labels = classes_per_batch(stream, workers, run.batch_size)
        rng = np.random.default_rng(0)
        random_batches = [len(np.unique(rng.choice(labels, run.batch_size, replace=False))) for _ in range(10000)]
        batches = len(labels) // run.batch_size
        print(f"{workers:>7}  {batches:>7}  {mean:>17.2f}  {np.mean(random_batches):>14.2f}  {time.perf_counter() - started:>7.1f}")


if __name__ == "__main__":
    main()
