"""Every evaluation protocol on SynthMotion: the main job's model (tiny NextFrame) vs random weights.

    python benchmarks/bench_evaluation.py                      # pre-trains first if the model folder is missing
    python benchmarks/bench_evaluation.py --model outputs/nextframe-r3d18-tiny-synthmotion --finetune_steps 100

Runs training/pretrain.py (the main job's settings) when ``--model`` does not exist yet, then
training/evaluate.py with all frozen-feature protocols (retrieval, kNN, linear, Motion, Sync, Order),
optionally fine-tuning, against the same architecture with random weights; prints the comparison table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

TRAINING = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING))

import evaluate  # noqa: E402
import pretrain  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="outputs/nextframe-r3d18-tiny-synthmotion")
    parser.add_argument("--pretrain_steps", type=int, default=300, help="used only when --model is missing")
    parser.add_argument("--finetune_steps", type=int, default=0)
    parser.add_argument("--output_dir", default="outputs/bench_evaluation")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not Path(args.model, "config.json").is_file():
        pretrain.main(["--output_dir", args.model, "--max_steps", str(args.pretrain_steps), "--no_evaluate"])
    evaluate.main(
        ["--model", args.model, "--dataset", "synthmotion", "--compare_random_init", "--output_dir", args.output_dir,
         "--finetune_steps", str(args.finetune_steps)]
    )  # fmt: skip
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
