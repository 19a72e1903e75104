"""MV-Former on SynthMotion with phases: frame-level protocols against the frozen image encoder's own features and
against random temporal-transformer weights, over seeds.

    python benchmarks/bench_mvformer.py                     # 3 seeds; writes docs/results/mvformer.md
    python benchmarks/bench_mvformer.py --readme README.md --readme_only   # copy that file's table into the README

Per seed: `training/pretrain.py` pre-trains the ``mvformer-vit-tiny`` preset (its image encoder is a tiny randomly
initialised ViT, frozen) on SynthMotion made with ``phases=True`` (generated into ``--data_dir`` if missing), then
three per-frame features are scored by the frame-level protocols (`hfvid.evaluation.frame_level`) on its test split:
MV-Former's frame embeddings; the same frozen encoder's mean-pooled patch features (``image_features``: what MV-Former
starts from); and MV-Former with its temporal model (LSTP, temporal transformer, embedding) drawn anew from the seed
(random temporal weights, the same frozen encoder). Prints and writes one table: mean +- 95% t-interval over seeds.
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoVideoProcessor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import pretrain  # noqa: E402

from hfvid.data.synthetic import SynthMotionConfig, float_pair, generate_synthmotion  # noqa: E402
from hfvid.evaluation.features import view_of  # noqa: E402
from hfvid.evaluation.frame_level import FRAME_PROTOCOLS  # noqa: E402
from hfvid.evaluation.report import METRIC_NAMES, evaluate_model, mean_interval  # noqa: E402


def random_temporal_weights(model, seed: int):
    """A copy of ``model`` whose temporal model is drawn anew (the frozen encoder kept)."""
    copied = copy.deepcopy(model)
    torch.manual_seed(seed)
    for module in copied.temporal_model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    copied.temporal_model.apply(copied._init_weights)
    return copied


def phase_from_frame_index(data: Path) -> float:
    """Phase top-1 (%) on the test split of the best rule that sees only a frame's index: the train split's most
    frequent phase at each index. Any feature that tells only where a frame is in the video scores about this."""
    def phases(split: str) -> np.ndarray:
        return np.array([json.loads(line)["phases"] for line in (data / split / "metadata.jsonl").read_text().splitlines()])

    train, test = phases("train"), phases("test")
    rule = np.array([np.bincount(column).argmax() for column in train.T])
    return 100 * float((test == rule).mean())


START, END = "<!-- bench_mvformer: start -->", "<!-- bench_mvformer: end -->"


def write_readme(readme: Path, generated: str) -> None:
    """Put the generated file's description line and table between START and END of ``readme``."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} section")
    lines = generated.splitlines()
    table = [line for line in lines if line.startswith("|")]
    described = next(line for line in lines if line.startswith("Written by"))
    block = "\n".join([START, described, "", *table, END])
    readme.write_text(text[: text.index(START)] + block + text[text.index(END) + len(END) :])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--learning_rate", type=float, default=3e-4)
    parser.add_argument("--data_dir", default="data/synthmotion_phases")
    parser.add_argument("--num_train_per_class", type=int, default=SynthMotionConfig.num_train_per_class)
    parser.add_argument("--num_test_per_class", type=int, default=SynthMotionConfig.num_test_per_class)
    parser.add_argument("--phase_start_range", type=float_pair, default=SynthMotionConfig.phase_start_range,
                        help="'LOW,HIGH': where the motion starts (fraction of the video); wider ranges tie phase less to time")
    parser.add_argument("--phase_end_range", type=float_pair, default=SynthMotionConfig.phase_end_range)
    parser.add_argument("--protocols", default=",".join(FRAME_PROTOCOLS))
    parser.add_argument("--output_root", default="outputs/bench_mvformer")
    parser.add_argument("--output", default="docs/results/mvformer.md")
    parser.add_argument("--readme", type=Path, help=f"also put the table between {START} and {END} in this file")
    parser.add_argument("--readme_only", action="store_true", help="only copy --output's table into --readme (no runs)")
    args = parser.parse_args(argv)
    if args.readme_only:
        write_readme(args.readme, Path(args.output).read_text())
        return
    sizes = dict(num_train_per_class=args.num_train_per_class, num_test_per_class=args.num_test_per_class)
    timing = dict(phase_start_range=args.phase_start_range, phase_end_range=args.phase_end_range)
    data = generate_synthmotion(args.data_dir, SynthMotionConfig(phases=True, **sizes, **timing))
    protocols = args.protocols.split(",")
    rows: dict[str, list[dict]] = {}
    for seed in map(int, args.seeds.split(",")):
        model_dir = Path(args.output_root) / f"mvformer-vit-tiny-seed{seed}"
        if not (model_dir / "config.json").is_file():
            pretrain.main(["--model", "mvformer-vit-tiny", "--dataset", str(data), "--max_steps", str(args.steps),
                           "--batch_size", str(args.batch_size), "--learning_rate", str(args.learning_rate),
                           "--seed", str(seed), "--no_evaluate", "--output_dir", str(model_dir)])  # fmt: skip
        model, processor = AutoModel.from_pretrained(model_dir), AutoVideoProcessor.from_pretrained(model_dir)
        for name, scored in (("MV-Former", model), ("frozen image encoder (mean-pooled patches)", view_of(model, "image_features")),
                             ("random temporal weights", random_temporal_weights(model, seed))):  # fmt: skip
            result = evaluate_model(scored, processor, source=str(data), protocols=protocols, seed=seed, progress=False)
            rows.setdefault(name, []).append(result["metrics"])
            print(f"seed {seed} {name}: " + json.dumps({k: round(v, 4) for k, v in result["metrics"].items()}), flush=True)

    metrics = [name for name in METRIC_NAMES if name in next(iter(rows.values()))[0]]
    lines = ["| features | " + " | ".join(METRIC_NAMES[m] for m in metrics) + " |", "|---|" + "---:|" * len(metrics)]
    for name, runs in rows.items():
        cells = []
        for metric in metrics:
            mean, half = mean_interval([100 * run[metric] for run in runs])
            cells.append(f"{mean:.1f} +- {half:.1f}")
        lines.append(f"| {name} (n={len(runs)}) | " + " | ".join(cells) + " |")
    # The claims are paired (same seed, same frozen encoder): MV-Former minus each baseline, seed by seed.
    names = list(rows)
    for baseline in names[1:]:
        cells = []
        for metric in metrics:
            mean, half = mean_interval([100 * (a[metric] - b[metric]) for a, b in zip(rows[names[0]], rows[baseline])])
            cells.append(f"{mean:+.1f} +- {half:.1f}")
        lines.append(f"| {names[0]} minus {baseline}, paired | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    index_only = phase_from_frame_index(Path(data))
    print(table)
    print(f"phase top-1 from the frame index alone: {index_only:.1f}")
    command = "python benchmarks/bench_mvformer.py " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(
        f"# MV-Former on SynthMotion with phases (generated)\n\nWritten by `{command}`: {args.steps} steps x {args.batch_size} "
        f"videos, AdamW, learning rate {args.learning_rate}, seeds {args.seeds}; frame-level protocols on the test split "
        f"(values x100, mean +- 95% t-interval over seeds; chance for the 3 phases: about 33 for phase top-1, 0 for "
        f"Kendall's tau). The motion starts at {args.phase_start_range[0]:.0%}-{args.phase_start_range[1]:.0%} of each video "
        f"and ends at {args.phase_end_range[0]:.0%}-{args.phase_end_range[1]:.0%}; the frame index alone (the train split's "
        f"most frequent phase at each index) gives phase top-1 {index_only:.1f}.\n\n{table}"
    )
    if args.readme:
        write_readme(args.readme, Path(args.output).read_text())


if __name__ == "__main__":
    main()
