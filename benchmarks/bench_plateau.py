"""How long the tiny TransRank waits before it ranks speeds, on RGB frames and on frame differences.

    python benchmarks/bench_plateau.py                       # rgb and frame_difference, seeds 0-2, 1000 steps each
    python benchmarks/bench_plateau.py --inputs rgb --seeds 0 --steps 300

SynthMotion's training split is decoded once into memory (every frame at 32 px, standardised), then
`TransRankForPreTraining` with the ``transrank-r3d18-tiny`` preset's config (temporal task 1x / 2x / reverse, rank
loss, no augmentation), the backbone's ``input`` set to each of ``--inputs``, is trained with AdamW (3e-3, weight
decay 0.05, cosine) on 8 videos a step, one clip per transformation at a random position. Logged every 50 steps: the
mean loss and ranking accuracy (chance 1/3) of the last 50 steps; "take-off" is the first logged step whose accuracy
passes 0.5. At the end, a logistic-regression probe on the frozen backbone's features of each video's middle clip
(train split -> test split) against the same network with random weights. This loop is not pretrain.py's (no loader,
no decoding per step), so that the plateau itself is what is timed; pretrain.py's numbers are in docs/learning.md.
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
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from hfvid.backbones import backbone_config
from hfvid.data.decoding import VideoReader
from hfvid.data.sampling import temporal_transformation_clip
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion
from hfvid.evaluation.report import mean_interval
from hfvid.models.transrank import TransRankForPreTraining
from hfvid.presets import get_config

FRAMES, SIZE = 8, 32


def load_frames(path: Path) -> torch.Tensor:
    """Every frame of one video, (frames, 3, SIZE, SIZE) floats in [0, 1]."""
    with VideoReader(path) as reader:
        frames = reader.get_frames(list(range(reader.metadata.num_frames))).float() / 255
    return F.interpolate(frames, size=(SIZE, SIZE), mode="bilinear", antialias=True)


def load_split(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(videos, frames, 3, SIZE, SIZE) floats in [0, 1] and labels."""
    rows = [json.loads(line) for line in (root / split / "metadata.jsonl").read_text().splitlines()]
    names = sorted({row["label"] for row in rows})
    videos = [load_frames(root / split / row["file_name"]) for row in rows]
    return torch.stack(videos), torch.tensor([names.index(row["label"]) for row in rows])


def standardised(train: tuple, test: tuple) -> tuple[tuple, tuple]:
    """Both (videos, labels) splits standardised with the train split's mean and standard deviation."""
    mean, std = train[0].mean(), train[0].std()
    return ((train[0] - mean) / std, train[1]), ((test[0] - mean) / std, test[1])


def load_standardised(data_dir: str) -> tuple[tuple, tuple]:
    """SynthMotion's train and test splits (generated if missing) in memory, standardised with the train split's
    mean and standard deviation."""
    root = Path(generate_synthmotion(data_dir, SynthMotionConfig(), progress=False))
    return standardised(load_split(root, "train"), load_split(root, "test"))


def make_model(frame_input: str, seed: int) -> TransRankForPreTraining:
    config = get_config("transrank-r3d18-tiny")
    config.backbone = backbone_config(config.backbone, input=frame_input)
    torch.manual_seed(seed)
    return TransRankForPreTraining(config)


def warmup_cosine(optimizer: torch.optim.Optimizer, steps: int, warmup: int = 0) -> torch.optim.lr_scheduler.LambdaLR:
    """The in-memory loops' schedule: a linear warm-up over ``warmup`` steps ((step + 1) / warmup), then the cosine
    of the whole run's progress, 0.5 (1 + cos(pi step / steps)), held at 0 past ``steps``."""

    def factor(step: int) -> float:
        return (step + 1) / warmup if step < warmup else 0.5 * (1 + np.cos(np.pi * min(step, steps) / steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def clip(video: torch.Tensor, name: str, rng: np.random.Generator) -> torch.Tensor:
    """One FRAMES-frame clip of ``video`` (frames, C, H, W) carrying temporal transformation ``name`` at a random
    position: the library's sampler (``temporal_transformation_clip``) without TransRank's speed jitter."""
    return video[temporal_transformation_clip(name, len(video), FRAMES, rng, speed_jitter=None)]


def clips(videos: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """(batch, 3 clips, FRAMES, C, H, W): 1x, 2x and reversed 1x, each at its own random position."""
    return torch.stack([torch.stack([clip(video, name, rng) for name in ("1x", "2x", "reverse")]) for video in videos])


@torch.no_grad()
def middle_clip_features(backbone, videos: torch.Tensor) -> torch.Tensor:
    """(videos, D) pooled features of each video's middle clip of FRAMES frames, 64 videos a call."""
    start = (videos.shape[1] - FRAMES) // 2
    return torch.cat([backbone(pixel_values_videos=videos[i : i + 64, start : start + FRAMES]).pooler_output for i in range(0, len(videos), 64)])


@torch.no_grad()
def probe(model, train: tuple, test: tuple) -> float:
    """Linear probe top-1 (%) of the frozen backbone on each video's middle clip."""
    model.eval()
    x_train, x_test = (middle_clip_features(model.transrank, split[0]).numpy() for split in (train, test))
    scaler = StandardScaler().fit(x_train)
    classifier = LogisticRegression(max_iter=2000).fit(scaler.transform(x_train), train[1].numpy())
    model.train()
    return 100 * classifier.score(scaler.transform(x_test), test[1].numpy())


def run(frame_input: str, seed: int, steps: int, train: tuple, test: tuple) -> dict:
    model = make_model(frame_input, seed)
    random_init = probe(model, train, test)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    schedule = warmup_cosine(optimizer, steps)
    rng, log, losses, accuracies, take_off = np.random.default_rng(seed), [], [], [], None
    started = time.process_time()
    for step in range(1, steps + 1):
        output = model(pixel_values_videos=clips(train[0][rng.integers(0, len(train[0]), 8)], rng))
        optimizer.zero_grad()
        output.loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(output.loss.item())
        accuracies.append(output.accuracy["temporal"].float().mean().item())
        if step % 50 == 0:
            log.append({"step": step, "loss": float(np.mean(losses[-50:])), "accuracy": float(np.mean(accuracies[-50:]))})
            if take_off is None and log[-1]["accuracy"] > 0.5:
                take_off = step
    result = {"input": frame_input, "seed": seed, "take_off": take_off, "final_accuracy": log[-1]["accuracy"],
              "probe": probe(model, train, test), "random_init_probe": random_init, "cpu_seconds": time.process_time() - started, "log": log}  # fmt: skip
    print(f"{frame_input} seed {seed}: take-off at step {take_off}, ranking accuracy {result['final_accuracy']:.2f}, linear probe "
          f"{result['probe']:.1f} (random init {random_init:.1f}), {result['cpu_seconds']:.0f} CPU s", flush=True)  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", default="rgb,frame_difference")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=None, help="also write the table and per-run logs (JSON beside it) here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    train, test = load_standardised(args.data_dir)
    results = [run(i, int(s), args.steps, train, test) for i in args.inputs.split(",") for s in args.seeds.split(",")]

    lines = ["| input | take-off step per seed (accuracy > 0.5) | ranking accuracy at the end | linear probe top-1 (%) | random init (%) |",
             "|---|---|---:|---:|---:|"]  # fmt: skip
    for frame_input in args.inputs.split(","):
        runs = [r for r in results if r["input"] == frame_input]
        cells = [", ".join(str(r["take_off"] or f">{args.steps}") for r in runs)]
        for key in ("final_accuracy", "probe", "random_init_probe"):
            m, h = mean_interval([r[key] for r in runs])
            cells.append(f"{m:.2f} +- {h:.2f}" if key == "final_accuracy" else f"{m:.1f} +- {h:.1f}")
        lines.append(f"| {frame_input} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    print(f"\n{args.steps} steps x 8 videos, seeds {args.seeds} (mean +- 95% t-interval):\n\n{table}")
    if args.output:
        command = "python benchmarks/bench_plateau.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        Path(args.output).write_text(
            f"# The tiny TransRank's plateau, RGB vs frame differences (generated)\n\nWritten by `{command}`: {args.steps} "
            f"steps x 8 videos, in-memory SynthMotion training split, seeds {args.seeds}; linear probe on the test split "
            f"(256 videos, chance 12.5%).\n\n{table}"
        )
        Path(args.output).with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
