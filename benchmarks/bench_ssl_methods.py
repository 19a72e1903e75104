"""Self-supervised methods side by side on SynthMotion, with the same pre-training budget.

    python benchmarks/bench_ssl_methods.py                                  # TransRank, TransCls, MoCo, RINCE
    python benchmarks/bench_ssl_methods.py --methods transrank-r3d18-tiny,simclr-r3d18-tiny,byol-r3d18-tiny --steps 600

Each preset is pre-trained by training/pretrain.py with the same steps, batch size (videos), optimiser and
seed (a model folder that already exists is reused unless --retrain), then its frozen backbone and one
with random weights are scored by the same protocols: retrieval R@k, kNN, linear probe (on SynthMotion
the labels are the motion, so this is also the Motion task), Sync and Order. Prints one table (values in
%) with the pre-training wall time, and writes comparison.md and recall_at_k_comparison.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModel, AutoVideoProcessor

TRAINING = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING))

import pretrain  # noqa: E402

from hfvid.evaluation.report import compare_table, evaluate_model, write_comparison  # noqa: E402

DEFAULT_METHODS = "transrank-r3d18-tiny,transcls-r3d18-tiny,moco-r3d18-tiny,rince-r3d18-tiny"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated presets (hfvid.list_configs())")
    parser.add_argument("--steps", type=int, default=300, help="optimiser steps per method")
    parser.add_argument("--batch_size", type=int, default=8, help="videos per step")
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--protocols", default="retrieval,knn,linear,sync,order")
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--output_root", default="outputs/bench_ssl_methods")
    parser.add_argument("--retrain", action="store_true", help="pre-train again even if a model folder exists")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    root = Path(args.output_root)
    settings = dict(
        source="synthmotion", synthmotion_dir=args.data_dir, protocols=args.protocols.split(","),
        batch_size=args.batch_size, seed=args.seed, progress=False,
    )  # fmt: skip

    results, pretrain_seconds = {}, {}
    for preset in args.methods.split(","):
        model_dir = root / preset
        if args.retrain or not (model_dir / "config.json").is_file():
            started = time.perf_counter()
            pretrain.main(
                ["--model", preset, "--dataset", "synthmotion", "--data_dir", args.data_dir, "--max_steps", str(args.steps),
                 "--batch_size", str(args.batch_size), "--learning_rate", str(args.learning_rate), "--seed", str(args.seed),
                 "--no_evaluate", "--output_dir", str(model_dir)]
            )  # fmt: skip
            pretrain_seconds[preset] = time.perf_counter() - started
        info = json.loads((model_dir / "training_info.json").read_text())
        if info["steps"] != args.steps or info["batch_size_per_process"] != args.batch_size:
            raise SystemExit(f"{model_dir} was trained with another budget ({info['steps']} steps); use --retrain")
        print(f"evaluating {preset} ...", flush=True)
        processor = AutoVideoProcessor.from_pretrained(model_dir)
        results[preset] = evaluate_model(AutoModel.from_pretrained(model_dir), processor, **settings)
        if "random init" not in results:
            torch.manual_seed(args.seed)
            random_init = AutoModel.from_config(AutoModel.from_pretrained(model_dir).config)
            results["random init"] = evaluate_model(random_init, processor, **settings)

    write_comparison(results, root)
    print(f"\n{args.steps} steps x {args.batch_size} videos each, SynthMotion test split:\n")
    print(compare_table(results))
    if pretrain_seconds:
        print("\npre-training wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in pretrain_seconds.items()))
    print(f"written to {root}")


if __name__ == "__main__":
    main()
