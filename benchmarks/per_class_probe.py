"""Which classes the linear probe gets right, per model: the per-class view of `bench_ssl_methods.py`'s linear column.

    python benchmarks/per_class_probe.py outputs/transrank-r3d18-tiny-synthmotion \
        outputs/bench_essl_moco/moco-r3d18-tiny-seed0 --random_init 0 --output docs/results/per_class_probe.md

Each model folder's frozen backbone (and, with ``--random_init SEED``, the first folder's architecture with random
weights drawn with that seed) is scored by the linear probe on SynthMotion (or ``--source``), as `evaluate_model`
scores it. Prints and writes one table: per model, the overall top-1 and each class's recall (%), and the pair of
classes most often mistaken for each other (the share of that pair's test videos predicted as the other one).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoVideoProcessor

import hfvid  # noqa: F401  (registers the Auto classes)
from hfvid.evaluation.report import evaluate_model
from hfvid.models.modeling_utils import random_init_model


def per_class_row(confusion: np.ndarray) -> tuple[float, list[float], tuple[int, int, float]]:
    """Overall top-1, per-class recall and the most confused pair (i, j, share of their videos swapped), in %."""
    recall = 100 * np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    swapped = confusion + confusion.T
    np.fill_diagonal(swapped, 0)
    i, j = np.unravel_index(np.argmax(swapped), swapped.shape)
    pair_share = 100 * swapped[i, j] / max(confusion[[i, j]].sum(), 1)
    return 100 * np.trace(confusion) / confusion.sum(), recall.tolist(), (min(i, j), max(i, j), pair_share)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model folders (LABEL=PATH names the row)")
    parser.add_argument(
        "--random_init",
        type=int,
        default=None,
        help="also score the first model's architecture with random weights drawn with this seed",
    )
    parser.add_argument("--source", default="synthmotion")
    parser.add_argument("--synthmotion_dir", default="data/synthmotion")
    parser.add_argument("--seed", type=int, default=0, help="the probe's seed")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the table was written with 1)")
    parser.add_argument("--output", default=None, help="also write the table here (markdown)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    named = [spec.split("=", 1) if "=" in spec else (Path(spec).name, spec) for spec in args.models]
    settings = dict(source=args.source, protocols=("linear",), seed=args.seed, progress=False)
    if args.source == "synthmotion":
        settings["synthmotion_dir"] = args.synthmotion_dir
    rows, class_names = [], None
    for index, (label, path) in enumerate(named):
        model, processor = AutoModel.from_pretrained(path), AutoVideoProcessor.from_pretrained(path)
        runs = [(label, model)]
        if index == 0 and args.random_init is not None:
            runs.append((f"random init (seed {args.random_init})", random_init_model(model.config, args.random_init)))
        for name, network in runs:
            results = evaluate_model(network.eval(), processor, **settings)
            class_names = results["class_names"]
            rows.append((name, *per_class_row(np.asarray(results["confusion"]))))
            print(f"{name}: linear {rows[-1][1]:.1f}", flush=True)

    header = "| model | linear | " + " | ".join(class_names) + " | most confused pair (share swapped) |"
    lines = [
        f"`python benchmarks/per_class_probe.py {shlex.join(sys.argv[1:] if argv is None else argv)}`",
        "",
        f"Linear probe on the {args.source} test split: overall top-1 and each class's recall (%).",
        "",
        header,
        "|---|---:|" + "---:|" * len(class_names) + "---|",
    ]
    for name, overall, recall, (i, j, share) in rows:
        cells = " | ".join(f"{value:.0f}" for value in recall)
        lines.append(f"| {name} | {overall:.1f} | {cells} | {class_names[i]} / {class_names[j]} ({share:.0f}%) |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
