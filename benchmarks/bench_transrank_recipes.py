"""Which part of the tiny TransRank recipe limits its motion features? One change at a time, 3 seeds each.

    python benchmarks/bench_transrank_recipes.py                                   # every variant, ~90 CPU minutes
    python benchmarks/bench_transrank_recipes.py --variants base,cls --seeds 0     # a few
    python benchmarks/bench_transrank_recipes.py --output docs/results/transrank_recipes.md

The loop is `bench_plateau.py`'s (SynthMotion's training split decoded once into memory at 32 px, standardised;
AdamW, weight decay 0.05, cosine schedule, 8 videos a step, one clip per transformation at its own random position;
no augmentation), with the transformations, loss, margin, head, learning rate, steps and backbone set per variant
(``VARIANTS``; "base" is the ``transrank-r3d18-tiny`` preset: 1x / 2x / reverse, margin ranking loss, margin 1, MLP
head of 64, lr 3e-3, 1000 steps, ``r3d_tiny_diff``). Each run ends with `bench_plateau.probe`: a logistic-regression
probe on the frozen backbone's features of each video's middle clip (train -> test split, 256 test videos, chance
12.5%), against the same network before training (random init: the same weights for every variant of a seed).
Each run also keeps its ranking accuracy over the last 50 steps, overall and per transformation (printed per run; the
table gives the per-transformation mean over seeds, "-" for runs stored before it was kept).
Per (variant, seed), the result is kept in the JSON beside ``--output``, so a rerun only trains what is missing
(and two processes given different ``--variants`` can fill one store; a last run with all of them writes the table).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_plateau import clip, load_standardised, probe, warmup_cosine  # noqa: E402

from hfvid.backbones import backbone_config  # noqa: E402
from hfvid.evaluation.report import mean_interval, paired_summary  # noqa: E402
from hfvid.losses.ranking import transformation_cross_entropy  # noqa: E402
from hfvid.models.transrank import TransRankForPreTraining  # noqa: E402
from hfvid.presets import get_config  # noqa: E402

BASE = {"transformations": ["1x", "2x", "reverse"], "loss": "rank", "margin": 1.0, "head": "mlp", "head_hidden_dim": 64,
        "lr": 3e-3, "warmup": 0, "steps": 1000, "backbone": "r3d_tiny_diff", "input": "frame_difference", "backbone_overrides": {}}  # fmt: skip
# name -> (what it changes, overrides of BASE)
VARIANTS: dict[str, tuple[str, dict]] = {
    "base": ("the preset's recipe", {}),
    "steps2000": ("2000 steps (the main job's)", {"steps": 2000}),
    "lr1e-2": ("learning rate 1e-2", {"lr": 1e-2}),
    "margin0.3": ("margin 0.3", {"margin": 0.3}),
    "margin3": ("margin 3", {"margin": 3.0}),
    "head_fc": ("a linear head (no hidden layer)", {"head": "fc"}),
    "head256": ("MLP head of 256", {"head_hidden_dim": 256}),
    "speed4": ("1x / 2x / 4x / reverse", {"transformations": ["1x", "2x", "4x", "reverse"]}),
    "shuffle": ("1x / 2x / reverse / shuffle", {"transformations": ["1x", "2x", "reverse", "shuffle"]}),
    "column_softmax": ("ranking by a softmax over the video's clips (each column), not a hinge", {"loss": "column_softmax"}),
    "cls": ("cross-entropy over each clip's transformations (TransCls)", {"loss": "cls"}),
    "rank+cls": ("the ranking loss plus TransCls's cross-entropy", {"loss": "rank+cls"}),
    "vit_diff": ("vit_tiny on frame differences, lr 1e-3, 100 warm-up steps", {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100}),
    "vit_diff_3000": ("the same, 3000 steps", {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100, "steps": 3000}),
    "vit_diff_p4": ("vit_tiny on frame differences, 4 x 4 patches (4x the tokens), lr 1e-3, 100 warm-up steps",
                    {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100, "backbone_overrides": {"patch_size": 4}}),
    "vit_diff_t1": ("vit_tiny on frame differences, tubelets of 1 frame (2x the tokens), lr 1e-3, 100 warm-up steps",
                    {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100, "backbone_overrides": {"tubelet_size": 1}}),
    "vit_diff_sin": ("vit_diff with fixed sinusoidal space-time positions (not learned)",
                     {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100, "backbone_overrides": {"position_embedding": "sinusoidal"}}),
    "vit_diff_divided": ("vit_diff with divided attention (over time at each position, then over space)",
                         {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100, "backbone_overrides": {"attention_type": "divided"}}),
    "vit_diff_cls": ("vit_diff with a CLS token as the pooled output (not the mean of the patch tokens)",
                     {"backbone": "vit_tiny", "lr": 1e-3, "warmup": 100, "backbone_overrides": {"cls_token": True, "pooling": "cls"}}),
}  # fmt: skip


def loss_of(output, recipe: dict) -> torch.Tensor:
    """The model computes "rank" or "cls"; the other two are built from its score matrix (batch, clips, transformations)."""
    scores = output.scores["temporal"]
    if recipe["loss"] == "column_softmax":
        num = scores.shape[1]
        return F.cross_entropy(scores.transpose(1, 2).reshape(-1, num), torch.arange(num).repeat(len(scores)))
    if recipe["loss"] == "rank+cls":
        return output.loss + transformation_cross_entropy(scores)
    return output.loss


def make_recipe_model(recipe: dict, seed: int) -> TransRankForPreTraining:
    """The tiny TransRank a recipe trains, initialised under ``seed``."""
    config = get_config(
        "transrank-r3d18-tiny",
        tasks=[{"name": "temporal", "transformations": recipe["transformations"]}],
        loss="cls" if recipe["loss"] == "cls" else "rank",
        margin=recipe["margin"],
        head=recipe["head"],
        head_hidden_dim=recipe["head_hidden_dim"],
        backbone=backbone_config(recipe["backbone"], input=recipe["input"], **recipe["backbone_overrides"]),
    )
    torch.manual_seed(seed)
    return TransRankForPreTraining(config)


def train_recipe(model: TransRankForPreTraining, recipe: dict, seed: int, train: tuple) -> list[torch.Tensor]:
    """``recipe["steps"]`` steps of 8 videos on the in-memory training split; returns each step's pretext accuracy
    per transformation."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=0.05)
    steps = recipe["steps"]
    schedule = warmup_cosine(optimizer, steps, recipe["warmup"])
    rng, accuracies = np.random.default_rng(seed), []
    for _ in range(steps):
        videos = train[0][rng.integers(0, len(train[0]), 8)]
        batch = torch.stack([torch.stack([clip(video, name, rng) for name in recipe["transformations"]]) for video in videos])
        output = model(pixel_values_videos=batch)
        optimizer.zero_grad()
        loss_of(output, recipe).backward()
        optimizer.step()
        schedule.step()
        accuracies.append(output.accuracy["temporal"].float().mean(dim=0))  # per transformation
    return accuracies


def run(recipe: dict, seed: int, train: tuple, test: tuple) -> dict:
    model = make_recipe_model(recipe, seed)
    random_init = probe(model, train, test)
    started = time.process_time()
    accuracies = train_recipe(model, recipe, seed, train)
    last = torch.stack(accuracies[-50:]).mean(dim=0)
    return {"probe": probe(model, train, test), "random_init": random_init, "pretext_accuracy": last.mean().item(),
            "pretext_accuracy_by_transformation": dict(zip(recipe["transformations"], last.tolist())),
            "cpu_seconds": time.process_time() - started}  # fmt: skip


def table(results: dict, names: list[str], seeds: list[int]) -> str:
    lines = ["| variant | what changes | linear probe (%) per seed | mean +- 95% | random init (%) | ratio to random init | paired over random init | paired gain over base | ranking accuracy by transformation, last 50 steps |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for name in names:
        runs = [results.get(f"{name}/{seed}") for seed in seeds]
        if None in runs:
            continue
        probes, randoms = [r["probe"] for r in runs], [r["random_init"] for r in runs]
        m, h = mean_interval(probes)
        rm, rh = mean_interval(randoms)
        base = [results.get(f"base/{seed}") for seed in seeds]
        same_backbone = VARIANTS[name][1].get("backbone", BASE["backbone"]) == BASE["backbone"]
        gain = "-" if name == "base" or None in base or not same_backbone else paired_summary(probes, [b["probe"] for b in base])
        over_random = paired_summary(probes, randoms)
        by_transformation = [r.get("pretext_accuracy_by_transformation") for r in runs]  # runs stored before it have none
        ranking = "-" if None in by_transformation else ", ".join(
            f"{t} {np.mean([b[t] for b in by_transformation]):.2f}" for t in by_transformation[0])  # fmt: skip
        lines.append(f"| {name} | {VARIANTS[name][0]} | {', '.join(f'{p:.1f}' for p in probes)} | {m:.1f} +- {h:.1f} | "
                     f"{rm:.1f} +- {rh:.1f} | {np.mean(probes) / np.mean(randoms):.2f}x | {over_random} | {gain} | {ranking} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def parse_variant_runs(parser: argparse.ArgumentParser, argv, variants: dict) -> tuple:
    """The in-memory benchmarks' command line (``--variants``, ``--seeds``, ``--threads``, ``--output``): the parsed
    arguments, the variant names and seeds, the JSON store beside ``--output`` and the runs it already holds."""
    args = parser.parse_args(argv)
    names, seeds = args.variants.split(","), [int(s) for s in args.seeds.split(",")]
    unknown = sorted(set(names) - set(variants))
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {list(variants)}")
    torch.set_num_threads(args.threads)
    store = Path(args.output).with_suffix(".json")
    store.parent.mkdir(parents=True, exist_ok=True)
    return args, names, seeds, store, json.loads(store.read_text()) if store.exists() else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {list(VARIANTS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default="outputs/transrank_recipes.md", help="the table; per-run results in the JSON beside it")
    args, names, seeds, store, results = parse_variant_runs(parser, argv, VARIANTS)
    train, test = load_standardised(args.data_dir)
    for name in names:
        for seed in seeds:
            key = f"{name}/{seed}"
            results = {**(json.loads(store.read_text()) if store.exists() else {}), **results}  # another process's runs too
            if key not in results:
                result = {"variant": name, "seed": seed, **run({**BASE, **VARIANTS[name][1]}, seed, train, test)}
                # re-read before writing: another process may be filling the same store with other variants
                results = {**json.loads(store.read_text()), **results, key: result} if store.exists() else {**results, key: result}
                store.write_text(json.dumps(results, indent=1) + "\n")
            r = results[key]
            by_transformation = r.get("pretext_accuracy_by_transformation")  # runs stored before it have none
            detail = f" ({', '.join(f'{n} {a:.2f}' for n, a in by_transformation.items())})" if by_transformation else ""
            print(f"{key}: linear probe {r['probe']:.1f} (random init {r['random_init']:.1f}), pretext accuracy "
                  f"{r['pretext_accuracy']:.2f}{detail}, {r['cpu_seconds']:.0f} CPU s", flush=True)  # fmt: skip
    text = table(results, names, seeds)
    print("\n" + text)
    command = "python benchmarks/bench_transrank_recipes.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    Path(args.output).write_text(
        f"# The tiny TransRank's recipe, one change at a time (generated)\n\nWritten by `{command}`: in-memory SynthMotion "
        f"training split, 8 videos a step, seeds {args.seeds}; linear probe on the test split (256 videos, chance 12.5%). "
        f"Ratio: mean probe / mean random init; paired: variant minus random init, and variant minus base (same backbone only), seed by seed (mean +- 95% interval, seeds above).\n\n{text}"
    )


if __name__ == "__main__":
    main()
