"""Does a task that needs the direction of rotation teach it? Next-frame prediction through a motion code.

    python benchmarks/bench_motion_prediction.py                       # every variant below; seeds 0-2
    python benchmarks/bench_motion_prediction.py --variants predict --seeds 0 --steps 300
    python benchmarks/bench_motion_prediction.py --probe_data_dir data/motion_dots   # also probe on DotMotion
    python benchmarks/bench_motion_prediction.py --variants transrank+predict,transrank0.1+predict   # both losses

Every self-supervised tiny model tells SynthMotion's translations and zooms apart and confuses clockwise with
anticlockwise rotation (`per_class_probe.py`, docs/learning.md session 14): TransRank's speeds and arrow of time,
and which clips share a video, can all be told without it. Predicting the next frame cannot: where a rotating
object's rim will be depends on which way it turns. Here the tiny backbone (``r3d_tiny_diff``) encodes a clip of 8
frames into its pooled 64-d code; a small convolutional decoder gets the clip's last frame (with two coordinate
channels) and that code, which scales and shifts its hidden channels (FiLM), and predicts the next frame's
difference from the last one (mean squared error). The decoder sees one frame, so the motion must come through the
code. Nothing in the task names a class: it is prediction of the future, as in predictive coding.

The loop is `bench_plateau.py`'s (SynthMotion's training split in memory at 32 px, standardised; AdamW 3e-3, weight
decay 0.05, cosine; 8 videos a step); the TransRank row is `bench_transrank_recipes.py`'s base recipe with the same
steps. Each run ends with hfvid's linear probe (`hfvid.evaluation.probes.linear_probe`) on the frozen backbone's
pooled features of each video's middle clip, overall and per class, against the same network with random weights.
With ``--probe_data_dir``, every frozen backbone is also probed on another video folder (e.g. `motion_dots.py`'s
DotMotion: the same motion classes from another renderer), with that folder's own train and test splits.
Prints and writes (``--output``; per-run results in the JSON beside it) the mean +- 95% interval over seeds.
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
from bench_plateau import (  # noqa: E402
    FRAMES,
    clip,
    load_frames,
    load_standardised,
    middle_clip_features,
    standardised,
    warmup_cosine,
)
from bench_transrank_recipes import BASE, loss_of, make_recipe_model, parse_variant_runs, train_recipe  # noqa: E402

from hfvid.data.synthetic import SYNTHMOTION_CLASSES  # noqa: E402
from hfvid.evaluation.probes import linear_probe  # noqa: E402
from hfvid.evaluation.report import mean_interval, paired_summary  # noqa: E402
from hfvid.models.nextframe import FiLMFrameDecoder  # noqa: E402

VARIANTS = {
    "random": "random weights (no training)",
    "transrank": "TransRank, the tiny preset's recipe (1x / 2x / reverse, rank loss)",
    "predict": "next-frame prediction through the pooled code (FiLM decoder)",
    "transrank+predict": "TransRank's ranking loss + next-frame prediction (weight 1), one backbone",
    "transrank0.1+predict": "TransRank's ranking loss x 0.1 + next-frame prediction, one backbone",
}
RANKING_WEIGHTS = {"transrank+predict": 1.0, "transrank0.1+predict": 0.1}  # the variants with both losses
CLASS_NAMES = sorted(SYNTHMOTION_CLASSES)  # the label order of bench_plateau.load_split (sorted names)
CW, CCW = CLASS_NAMES.index("rotate_cw"), CLASS_NAMES.index("rotate_ccw")


def train_prediction(backbone, seed: int, steps: int, train: tuple, transrank=None, ranking_weight: float = 1.0) -> list[float]:
    """``steps`` steps of 8 videos: a clip of FRAMES frames at a random start encodes the code, the decoder predicts
    frame[start + FRAMES] - frame[start + FRAMES - 1] from frame[start + FRAMES - 1]. With ``transrank`` (the model
    whose backbone ``backbone`` is), each step also ranks the same videos' 1x / 2x / reverse clips (the base recipe)
    and the ranking loss, times ``ranking_weight``, is added. Returns each step's prediction loss over the loss of
    predicting no change (1 = the code tells nothing)."""
    torch.manual_seed(seed)
    decoder = FiLMFrameDecoder(code_dim=backbone.backbone.num_features)  # NextFrame's decoder, PyTorch's init
    parameters = [*(transrank or backbone).parameters(), *decoder.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=BASE["lr"], weight_decay=0.05)
    schedule = warmup_cosine(optimizer, steps)
    videos, rng, relative = train[0], np.random.default_rng(seed), []
    for _ in range(steps):
        chosen = videos[rng.integers(0, len(videos), 8)]
        starts = rng.integers(0, chosen.shape[1] - FRAMES, len(chosen))
        clips = torch.stack([video[start : start + FRAMES] for video, start in zip(chosen, starts)])
        last = clips[:, -1]
        target = torch.stack([video[start + FRAMES] for video, start in zip(chosen, starts)]) - last
        prediction = decoder(last, backbone(pixel_values_videos=clips).pooler_output)
        loss = F.mse_loss(prediction, target)
        relative.append(loss.item() / target.pow(2).mean().item())
        if transrank is not None:
            ranked = torch.stack([torch.stack([clip(video, name, rng) for name in BASE["transformations"]]) for video in chosen])
            loss = loss + ranking_weight * loss_of(transrank(pixel_values_videos=ranked), BASE)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return relative


@torch.no_grad()
def probe(backbone, train: tuple, test: tuple, seed: int) -> dict:
    """hfvid's linear probe on the frozen pooled features of each video's middle clip: top-1, per-class recall and
    the share of rotation videos put in the right one of the two rotation classes (of those put in either), in %.
    The last is meaningful where the features tell rotations from the rest (trained models); random features mix
    every class with every other."""
    backbone.eval()
    features = [middle_clip_features(backbone, split[0]) for split in (train, test)]
    result = linear_probe(features[0], train[1], features[1], test[1], seed=seed)
    backbone.train()
    confusion = result["confusion"].double()
    rotation = confusion[[CW, CCW]][:, [CW, CCW]]
    return {
        "linear": 100 * result["linear_top1"],
        "per_class": dict(zip(CLASS_NAMES, (100 * confusion.diag() / confusion.sum(dim=1)).tolist())),
        "cw_vs_ccw": 100 * (rotation.trace() / rotation.sum()).item(),
    }


def load_video_folder(root: str) -> tuple[tuple, tuple]:
    """A video folder ``<root>/{train,test}/<class>/*.mp4`` (e.g. `motion_dots.py`'s DotMotion) in memory like
    `bench_plateau.load_standardised`: every frame at 32 px, labels numbering the sorted class names, both splits
    standardised with the training split's mean and standard deviation."""
    splits = []
    for split in ("train", "test"):
        paths = sorted(Path(root, split).glob("*/*.mp4"))
        splits.append((torch.stack([load_frames(path) for path in paths]), torch.tensor([CLASS_NAMES.index(path.parent.name) for path in paths])))
    return standardised(*splits)


def run(variant: str, seed: int, steps: int, train: tuple, test: tuple, other: tuple | None = None) -> dict:
    model = make_recipe_model(BASE, seed)  # the same initial backbone for every variant of a seed
    backbone = model.transrank
    random_init = probe(backbone, train, test, seed)
    random_other = probe(backbone, *other, seed) if other else None
    started, detail = time.process_time(), {}
    if variant == "transrank":
        accuracies = train_recipe(model, {**BASE, "steps": steps}, seed, train)
        detail["pretext_accuracy"] = torch.stack(accuracies[-50:]).mean().item()
    elif variant == "predict" or variant in RANKING_WEIGHTS:
        transrank = model if variant in RANKING_WEIGHTS else None
        relative = train_prediction(backbone, seed, steps, train, transrank, RANKING_WEIGHTS.get(variant, 1.0))
        detail["relative_loss_first_50"], detail["relative_loss_last_50"] = float(np.mean(relative[:50])), float(np.mean(relative[-50:]))
    trained = random_init if variant == "random" else probe(backbone, train, test, seed)
    if other:  # the same frozen backbone probed on another data set (its own train and test splits)
        detail["other"] = {**(random_other if variant == "random" else probe(backbone, *other, seed)), "random_init": random_other}
    return {"variant": variant, "seed": seed, "steps": steps, **trained, "random_init": random_init,
            "cpu_seconds": time.process_time() - started, **detail}  # fmt: skip


def table(results: dict, names: list[str], seeds: list[int], data: str | None = None) -> str:
    """The table over seeds; with ``data="other"``, of each run's probe on the other data set."""
    if data:
        results = {key: {**r[data], "steps": r["steps"]} | {k: r[k] for k in r if k.startswith("relative") or k == "pretext_accuracy"}
                   for key, r in results.items() if data in r}  # fmt: skip
    lines = ["| variant | linear probe (%) per seed | mean +- 95% | paired over random init | cw and ccw recall (%) | cw vs ccw within the rotations (%) | other six classes' mean recall (%) | pretext |",
             "|---|---|---:|---|---:|---:|---:|---|"]  # fmt: skip
    for name in names:
        runs = [results.get(f"{name}/{seed}") for seed in seeds]
        if None in runs:
            continue
        linear, randoms = [r["linear"] for r in runs], [r["random_init"]["linear"] for r in runs]
        m, h = mean_interval(linear)
        cw_m, cw_h = mean_interval([r["cw_vs_ccw"] for r in runs])
        rotations = mean_interval([np.mean([r["per_class"]["rotate_cw"], r["per_class"]["rotate_ccw"]]) for r in runs])
        others = mean_interval([np.mean([v for name, v in r["per_class"].items() if not name.startswith("rotate")]) for r in runs])
        pretext = "-"
        if name == "transrank":
            pretext = f"ranking accuracy {np.mean([r['pretext_accuracy'] for r in runs]):.2f} (chance 0.33)"
        elif name == "predict" or name in RANKING_WEIGHTS:
            pretext = (f"loss / no-change loss {np.mean([r['relative_loss_first_50'] for r in runs]):.3f} (first 50 steps) -> "
                       f"{np.mean([r['relative_loss_last_50'] for r in runs]):.3f} (last 50)")  # fmt: skip
        over_random = "-" if name == "random" else paired_summary(linear, randoms)
        lines.append(f"| {VARIANTS[name]} | {', '.join(f'{v:.1f}' for v in linear)} | {m:.1f} +- {h:.1f} | {over_random} | "
                     f"{rotations[0]:.1f} +- {rotations[1]:.1f} | {cw_m:.1f} +- {cw_h:.1f} | {others[0]:.1f} +- {others[1]:.1f} | {pretext} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {list(VARIANTS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--probe_data_dir", default=None, help="also probe every frozen backbone on this video folder (its own train and test splits, e.g. motion_dots.py's DotMotion)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default="outputs/motion_prediction.md", help="the table; per-run results in the JSON beside it")
    args, names, seeds, store, results = parse_variant_runs(parser, argv, VARIANTS)
    train, test = load_standardised(args.data_dir)
    other = load_video_folder(args.probe_data_dir) if args.probe_data_dir else None
    for name in names:
        for seed in seeds:
            key = f"{name}/{seed}"
            if key not in results or results[key]["steps"] != args.steps or (other and "other" not in results[key]):
                results[key] = run(name, seed, args.steps, train, test, other)
                store.write_text(json.dumps(results, indent=1) + "\n")
            r = results[key]
            print(f"{key}: linear {r['linear']:.1f} (random init {r['random_init']['linear']:.1f}), cw vs ccw {r['cw_vs_ccw']:.1f}, "
                  f"{r['cpu_seconds']:.0f} CPU s", flush=True)  # fmt: skip
    text = table(results, names, seeds)
    if other:
        text += f"\nThe same frozen backbones probed on {args.probe_data_dir} (its own train and test splits):\n\n" + table(results, names, seeds, "other")
    command = "python benchmarks/bench_motion_prediction.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    Path(args.output).write_text(
        f"# Next-frame prediction through a motion code vs TransRank (generated)\n\nWritten by `{command}`: {args.steps} steps "
        f"x 8 videos, in-memory SynthMotion training split, seeds {args.seeds}; hfvid's linear probe on the test split "
        f"(256 videos, chance 12.5%); mean +- 95% t-interval over seeds.\n\n{text}"
    )
    print("\n" + text)


if __name__ == "__main__":
    main()
