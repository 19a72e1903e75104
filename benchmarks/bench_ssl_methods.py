"""Self-supervised methods side by side on SynthMotion, with the same pre-training budget.

    python benchmarks/bench_ssl_methods.py                                  # TransRank and TransCls, 3 seeds
    python benchmarks/bench_ssl_methods.py --methods transrank-r3d18-tiny,moco-r3d18-tiny,simclr-r3d18-tiny --steps 600
    python benchmarks/bench_ssl_methods.py --methods transrank-vit-tiny \
        --variant drop75 transrank-vit-tiny "backbone={arch: vit, image_size: 32, num_frames: 8, patch_size: 8, hidden_size: 64, depth: 4, num_heads: 4, token_drop_ratio: 0.75}"

Each preset is pre-trained by training/pretrain.py with the same steps, batch size (videos), optimiser and
seed, for each seed (a model folder that already exists is reused unless --retrain); then its frozen backbone
and one with random weights (`random_init_model`: drawn from the same seed, the same backbone weights whatever
the method) are scored by the same protocols: retrieval R@k, kNN,
linear probe (on SynthMotion the labels are the motion, so this is also the Motion task), Sync and Order.
Prints and writes (comparison.md, results.json; the same as bars in comparison.png, and beside ``--output``) one table: the mean over seeds +- the 95% t-interval (values
in %), the chance level and each method's pre-training wall time per seed. A ``--variant LABEL PRESET OVERRIDES``
is a preset pre-trained with pretrain.py's ``--config_overrides OVERRIDES``, listed as LABEL. ``--features`` scores
other outputs of the models too (e.g. LSFD's ``stationary,non_stationary``), each listed as "LABEL [feature]".
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from datetime import date
from pathlib import Path

from transformers import AutoModel, AutoVideoProcessor

TRAINING = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING))

import pretrain  # noqa: E402

import hfvid  # noqa: E402
from hfvid.evaluation.features import view_of  # noqa: E402
from hfvid.evaluation.plots import plot_seed_comparison  # noqa: E402
from hfvid.evaluation.report import METRIC_NAMES, compare_table, evaluate_model, mean_interval, paired_summary  # noqa: E402
from hfvid.models.modeling_utils import random_init_model  # noqa: E402
from hfvid.utils.cli import parse_config_overrides  # noqa: E402

DEFAULT_METHODS = "transrank-r3d18-tiny,transcls-r3d18-tiny"
HEADLINE_METRICS = ("R@1", "knn_top1", "linear_top1", "attentive_top1", "sync_top1", "order_top1", "phase_top1", "kendalls_tau")
ALWAYS_SHOWN = ("R@1", "knn_top1", "linear_top1", "sync_top1", "order_top1")  # the others only where they were run


def architecture(config) -> str:
    """What a random init must share with a pre-trained model: an hfvid model's backbone (every hfvid method's
    `AutoModel` is its backbone), or a transformers model's type and encoder sizes."""
    if hasattr(config, "backbone"):
        return json.dumps(config.backbone, sort_keys=True)
    fields = ("hidden_size", "num_hidden_layers", "num_attention_heads", "patch_size", "tubelet_size")
    return config.model_type + json.dumps({name: getattr(config, name, None) for name in fields}, sort_keys=True)


def random_init_name(label: str, architectures: dict[str, str]) -> str:
    """The row of the random init drawn for ``label``'s architecture (named after the first run with it)."""
    return "random init" if len(set(architectures.values())) == 1 else f"random init ({label})"


def seed_table(
    results: dict[str, list[dict]],
    seconds: dict[str, list[float]],
    num_steps: int,
    baselines: dict[str, str] | None = None,
    comparisons: list[tuple[str, str]] = (),
) -> str:
    """Markdown: one row per model (the chance level last), one column per metric: mean +- 95% interval over seeds
    (values in %), and each method's mean pre-training wall time per seed. ``baselines`` (model -> its random-init
    row) adds, per model, the paired comparison: model minus the random init of the same seed, mean +- 95% interval,
    and in how many seeds the model was above; ``comparisons`` ((model, other model) pairs) adds the same between
    two models."""
    columns = list(results)
    chance = results[columns[0]][0].get("chance", {})
    measured = measured_metrics(results)
    metrics = [name for name in HEADLINE_METRICS if name in ALWAYS_SHOWN or name in measured]
    header = [METRIC_NAMES[name] for name in metrics] + [f"pre-training wall per seed ({num_steps} steps)"]
    lines = ["| Model (values in %) | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    for model in columns:
        cells = []
        for name in metrics:
            values = [100 * run["metrics"][name] for run in results[model] if name in run["metrics"]]
            mean, half_width = mean_interval(values) if values else (None, None)
            cells.append("-" if mean is None else f"{mean:.1f} +- {half_width:.1f}")
        cells.append(f"{sum(seconds[model]) / len(seconds[model]):.0f} s" if seconds.get(model) else "-")
        lines.append(f"| {model} (n={len(results[model])}) | " + " | ".join(cells) + " |")
    for model, baseline in [*(baselines or {}).items(), *comparisons]:
        cells = []
        for name in metrics:
            pairs = [(run["metrics"][name], base["metrics"][name]) for run, base in zip(results[model], results[baseline])
                     if name in run["metrics"] and name in base["metrics"]]  # fmt: skip
            if not pairs:
                cells.append("-")
                continue
            cells.append(paired_summary([100 * a for a, _ in pairs], [100 * b for _, b in pairs]))
        lines.append(f"| {model} minus {baseline}, paired by seed | " + " | ".join(cells) + " | |")
    chance_cells = ["-" if chance.get(name) is None else f"{100 * chance[name]:.1f}" for name in metrics]
    lines.append("| chance | " + " | ".join(chance_cells) + " | |")
    return "\n".join(lines) + "\n"


def measured_metrics(results: dict[str, list[dict]]) -> set[str]:
    """The metrics some run of ``results`` (model -> its runs over seeds) measured."""
    return {name for runs in results.values() for run in runs for name in run["metrics"]}


def plot_seeds(results: dict[str, list[dict]], path: Path) -> Path:
    """The table's measured metrics as bars (mean over seeds, 95% interval, each seed a dot) with the chance level."""
    measured = measured_metrics(results)
    metrics = [name for name in HEADLINE_METRICS if name in measured]
    values = {model: {METRIC_NAMES[name]: [100 * run["metrics"][name] for run in runs if name in run["metrics"]] for name in metrics}
              for model, runs in results.items()}  # fmt: skip
    chance = next(iter(results.values()))[0].get("chance", {})
    chance = {METRIC_NAMES[name]: 100 * chance[name] for name in metrics if chance.get(name) is not None}
    return Path(plot_seed_comparison(values, chance, path))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated presets (hfvid.list_configs()); empty: the --variant runs only")
    parser.add_argument("--steps", type=int, default=2000, help="optimiser steps per method and seed")
    parser.add_argument("--batch_size", type=int, default=8, help="videos per forward pass (BatchNorm's batch)")
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1, help="forward passes per optimiser step")
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated; each seed pre-trains and draws a random init")
    parser.add_argument("--protocols", default="retrieval,knn,linear,sync,order")
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--eval_dataset", default=None,
                        help="score the frozen features on this video folder instead of SynthMotion (pre-training stays on "
                             "SynthMotion), e.g. data/motion_dots from benchmarks/motion_dots.py")
    parser.add_argument("--output_root", default="outputs/bench_ssl_methods")
    parser.add_argument("--retrain", action="store_true", help="pre-train again even if a model folder exists")
    parser.add_argument(
        "--variant", nargs=3, action="append", default=[], metavar=("LABEL", "PRESET", "OVERRIDES"),
        help="also a preset with pretrain.py's --config_overrides, listed as LABEL (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--features", default="pooler_output",
        help="comma-separated outputs to score (training/evaluate.py's --feature), e.g. pooler_output,stationary,non_stationary",
    )  # fmt: skip
    parser.add_argument("--frame_window", type=int, default=None,
                        help="frame-level protocols (phase, kendall; need --eval_dataset with phases): each frame's feature is the clip of this many frames around it (training/evaluate.py's --frame_window)")
    parser.add_argument(
        "--compare", action="append", default=[], metavar="MODEL:OTHER",
        help="also the paired comparison MODEL minus OTHER (two row labels, e.g. a --variant and its base preset; repeatable)",
    )  # fmt: skip
    parser.add_argument("--output", default=None, help="also write the table, with this command, to this markdown file (e.g. docs/results/...)")
    args = parser.parse_args(argv)
    root = Path(args.output_root)
    runs = {preset: (preset, None) for preset in args.methods.split(",") if preset}  # label -> (preset, config overrides)
    runs.update({label: (preset, overrides) for label, preset, overrides in args.variant})
    comparisons = [tuple(pair.split(":", 1)) for pair in args.compare]
    for pair in comparisons:
        if len(pair) != 2 or not set(pair) <= set(runs):
            raise SystemExit(f"--compare takes MODEL:OTHER, two of the run labels {sorted(runs)}; got {':'.join(pair)!r}")

    results, seconds, baselines = {}, {}, {}
    architectures = {}  # architecture -> the first run label with it (from each preset's config)
    for label, (preset, overrides) in runs.items():
        architectures.setdefault(architecture(hfvid.get_config(preset, **parse_config_overrides(overrides))), label)
    features = [feature.strip() for feature in args.features.split(",") if feature.strip()]
    for seed in [int(seed) for seed in args.seeds.split(",")]:
        settings = dict(
            source=args.eval_dataset or "synthmotion", synthmotion_dir=args.data_dir, protocols=args.protocols.split(","),
            batch_size=args.batch_size, seed=seed, progress=False, frame_window=args.frame_window,
        )  # fmt: skip
        for label, (preset, overrides) in runs.items():
            model_dir = root / f"{label}-seed{seed}"
            if args.retrain or not (model_dir / "config.json").is_file():
                pretrain.main(
                    ["--model", preset, "--dataset", "synthmotion", "--data_dir", args.data_dir, "--max_steps", str(args.steps),
                     "--batch_size", str(args.batch_size), "--gradient_accumulation_steps", str(args.gradient_accumulation_steps),
                     "--learning_rate", str(args.learning_rate), "--seed", str(seed),
                     "--no_evaluate", "--output_dir", str(model_dir)]
                    + (["--config_overrides", overrides] if overrides else [])
                )  # fmt: skip
            info = json.loads((model_dir / "training_info.json").read_text())
            seconds.setdefault(label, []).append(info["wall_seconds_this_session"])  # also for a reused folder
            budget = (info["steps"], info["batch_size_per_process"], info.get("gradient_accumulation_steps", 1))
            if budget != (args.steps, args.batch_size, args.gradient_accumulation_steps):
                raise SystemExit(f"{model_dir} was trained with another budget ({info['steps']} steps); use --retrain")
            print(f"evaluating {label} seed {seed} ...", flush=True)
            processor = AutoVideoProcessor.from_pretrained(model_dir)
            model = AutoModel.from_pretrained(model_dir)
            for feature in features:
                name = label if feature == "pooler_output" else f"{label} [{feature}]"
                if name != label:
                    seconds.setdefault(name, []).append(seconds[label][-1])
                results.setdefault(name, []).append(evaluate_model(view_of(model, feature), processor, **settings))
                baselines[name] = random_init_name(architectures[architecture(model.config)], architectures)
            # One random init per seed and architecture (the first method with it names it when there are several).
            if label == architectures[architecture(model.config)]:
                name = random_init_name(label, architectures)
                results.setdefault(name, []).append(evaluate_model(random_init_model(model.config, seed), processor, **settings))
        print(compare_table({name: runs[-1] for name, runs in results.items()}), flush=True)

    results = {name: results[name] for name in sorted(results, key=lambda name: name.startswith("random init"))}
    table = seed_table(results, seconds, args.steps, baselines, comparisons)
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps({name: [r["metrics"] for r in runs] for name, runs in results.items()}, indent=2) + "\n")
    (root / "comparison.md").write_text(table)
    plot = plot_seeds(results, root / "comparison.png")
    num_test = next(iter(results.values()))[0]["data"]["num_test_videos"]
    scored_on = args.eval_dataset or "SynthMotion"
    videos = f"{args.batch_size * args.gradient_accumulation_steps} videos"
    if args.gradient_accumulation_steps > 1:
        videos += f" ({args.batch_size} x {args.gradient_accumulation_steps} accumulated)"
    print(f"\n{args.steps} steps x {videos}, seeds {args.seeds}, {scored_on} test split ({num_test} videos):\n")
    print(table)
    print(f"written to {root}")
    if args.output:
        command = " ".join(["python benchmarks/bench_ssl_methods.py", *(shlex.quote(arg) for arg in (sys.argv[1:] if argv is None else argv))])
        window = f"the clip of {args.frame_window} frames around each frame" if args.frame_window else "the model's own"
        frame_level = f"; per-frame features for the frame-level protocols: {window}" if set(args.protocols.split(",")) & {"phase", "kendall"} else ""
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            f"# Self-supervised methods pre-trained on SynthMotion (generated)\n\nWritten by `{command}` on {date.today()}: "
            f"{args.steps} steps x {videos}, AdamW, learning rate {args.learning_rate}, each preset's own "
            f"recipe, seeds {args.seeds}; frozen features on the {scored_on} test split ({num_test} videos, 8 motion "
            f"classes{frame_level}); values in %, mean +- 95% t-interval over the seeds.\n\n{table}\n"
            f"![the table as a plot, with each seed and the chance level]({output.with_suffix('.png').name})\n"
        )
        shutil.copyfile(plot, output.with_suffix(".png"))
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
