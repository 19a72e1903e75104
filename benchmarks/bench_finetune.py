"""Fine-tuning with labels through training/finetune.py: the supervised ceiling and the learning-rate sweep.

    python benchmarks/bench_finetune.py                                   # tiny R3D from random weights, 3 seeds
    python benchmarks/bench_finetune.py --models transrank-r3d18-tiny,outputs/transrank-r3d18-tiny-synthmotion \\
        --learning_rates 1e-3,3e-3,1e-2                                   # random init vs pre-trained, 3 LRs

Each (model, learning rate, seed) is fine-tuned by `finetune.finetune` on the train split and scored on
the test split (the middle clip of each video, no augmentation). A model is a preset name (random
weights: the supervised baseline) or a pre-trained model folder. Prints one row per (model, LR): test
accuracy per seed, mean and 95% t-interval over seeds, chance level and the wall time of one run; writes the same
to ``--output`` and draws it (accuracy against learning rate, a line per model, each seed a dot, chance dashed)
beside it and in ``--output_root``. ``--replot FILE`` draws a table written earlier again, without training.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

import finetune  # noqa: E402
from methods_table import finetune_rows  # noqa: E402  (benchmarks/, beside this script)

from hfvid.evaluation.plots import plot_sweep  # noqa: E402
from hfvid.evaluation.report import mean_interval  # noqa: E402


def read_table(path: Path) -> tuple[list[dict], float]:
    """The rows (model, learning_rate, accuracies) and the chance level (%) of a table this script wrote."""
    text = path.read_text()
    chance = re.search(r"\(chance ([\d.]+)%\)", text)
    rows = [
        {"model": model, "learning_rate": float(rate), "accuracies": [float(a) for a in per_seed.split(",")]}
        for model, rate, per_seed, _, _ in finetune_rows(text)
    ]
    if chance is None or not rows:
        raise ValueError(f"{path} is not a table of bench_finetune.py (no '(chance N%)' or no rows)")
    return rows, float(chance[1])


def plot(rows: list[dict], chance: float, path: Path) -> Path:
    """Test accuracy against the learning rate, a line per model (a preset name: its random weights; a model folder,
    which a table drawn again may name after it is gone: a path)."""
    values: dict[str, dict[float, list[float]]] = {}
    for row in rows:
        folder = "/" in row["model"] or Path(row["model"]).is_dir()
        name = f"{Path(row['model']).name} (pre-trained)" if folder else f"{row['model']} (random weights)"
        values.setdefault(name, {})[row["learning_rate"]] = row["accuracies"]
    return Path(plot_sweep(values, chance, path, xlabel="fine-tuning learning rate", ylabel="test top-1 (%)"))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="transrank-r3d18-tiny", help="comma-separated presets or model folders")
    parser.add_argument("--learning_rates", default="3e-3", help="comma-separated")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated")
    parser.add_argument("--max_steps", type=int, default=3600)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--dataset", default="synthmotion")
    parser.add_argument("--data_dir", default="data/synthmotion")
    parser.add_argument("--config_overrides", default=None, help="finetune.py's --config_overrides for every preset model, e.g. 'backbone={arch: r3d, layers: [1, 1, 1, 1], widths: [8, 16, 32, 64], stem_width: 8, input: frame_difference}'")
    parser.add_argument("--crop_scale", default=None, help="'MIN,MAX' for every model (default: each model's processor's)")
    parser.add_argument("--num_workers", type=int, default=1, help="DataLoader workers decoding the clips")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the training process")
    parser.add_argument("--output", default=None, help="also write the table to this Markdown file")
    parser.add_argument("--output_root", default="outputs/bench_finetune")
    parser.add_argument("--replot", default=None, help="only draw this table (written by --output) again, beside it")
    args = parser.parse_args(argv)
    if args.replot:
        rows, chance = read_table(Path(args.replot))
        print(f"drew {plot(rows, chance, Path(args.replot).with_suffix('.png'))}")
        return rows
    torch.set_num_threads(args.threads)

    rows = []
    for model in args.models.split(","):
        for learning_rate in args.learning_rates.split(","):
            accuracies, seconds = [], []
            for seed in args.seeds.split(","):
                output_dir = Path(args.output_root) / f"{Path(model).name}-lr{learning_rate}-seed{seed}"
                started = time.perf_counter()
                metrics = finetune.finetune(
                    finetune.build_parser().parse_args(
                        ["--model", model, "--dataset", args.dataset, "--data_dir", args.data_dir,
                         "--output_dir", str(output_dir), "--max_steps", str(args.max_steps),
                         "--per_device_train_batch_size", str(args.batch_size), "--per_device_eval_batch_size", "64",
                         "--learning_rate", learning_rate, "--warmup_steps", str(args.max_steps // 20),
                         "--dataloader_num_workers", str(args.num_workers), "--seed", seed, "--logging_steps", "100",
                         *(["--crop_scale", *args.crop_scale.split(",")] if args.crop_scale else []),
                         *(["--config_overrides", args.config_overrides] if args.config_overrides else [])]
                    )
                )  # fmt: skip
                seconds.append(time.perf_counter() - started)
                accuracies.append(100 * metrics["eval_accuracy"])
                print(f"{model} lr {learning_rate} seed {seed}: {accuracies[-1]:.1f}% in {seconds[-1]:.0f} s", flush=True)
            mean, half_width = mean_interval(accuracies)
            rows.append(
                {"model": model, "learning_rate": float(learning_rate), "accuracies": accuracies, "mean": mean,
                 "interval": half_width, "seconds_per_run": statistics.fmean(seconds)}
            )  # fmt: skip

    num_classes = len(json.loads((output_dir / "config.json").read_text())["id2label"])  # the last run's
    lines = [
        f"{args.max_steps} steps x {args.batch_size} videos, {args.dataset} test split (chance {100 / num_classes:.1f}%):",
        "",
        "| model | learning rate | test top-1 (%) per seed | mean +- 95% interval | wall per run |",
        "|---|---:|---|---:|---:|",
    ]
    for row in rows:
        per_seed = ", ".join(f"{a:.1f}" for a in row["accuracies"])
        lines.append(f"| {row['model']} | {row['learning_rate']:g} | {per_seed} | {row['mean']:.1f} +- {row['interval']:.1f} | {row['seconds_per_run']:.0f} s |")
    print("\n" + "\n".join(lines))
    if args.output:
        command = "python benchmarks/bench_finetune.py " + shlex.join(sys.argv[1:])
        Path(args.output).write_text(f"<!-- written by: {command} -->\n" + "\n".join(lines) + "\n")
    Path(args.output_root).mkdir(parents=True, exist_ok=True)
    (Path(args.output_root) / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    for path in [Path(args.output_root) / "finetune.png"] + ([Path(args.output).with_suffix(".png")] if args.output else []):
        print(f"drew {plot(rows, 100 / num_classes, path)}")
    return rows


if __name__ == "__main__":
    main()
