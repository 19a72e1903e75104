"""The Eureka-moments claim at our scale: on a task that needs two steps of reasoning, a softmax ViT plateaus, and
NormSoftmax or heat treatment break the plateau in fewer steps (Hoffmann et al. 2023, arXiv 2310.12956).

Task ("digit pairs", built from scikit-learn's 8 x 8 digits, real handwriting): a 2-frame clip shows digit a, then
digit b (each frame 16 x 16, the digit scaled 2x). The label is b when a < 5 and 9 - b otherwise. Reading b alone
gives 50% at best (the plateau); the rest needs b combined with a's group. Training pairs use the first 1200
digits, test pairs the other 597.

Model: hfvid's video ViT (`hfvid.backbones.vit`, 4 blocks, width 64, 4 heads, 8 x 8 patches, one frame per
tubelet: 8 tokens, CLS pooling) and a linear classifier, AdamW (lr ``--lr``, weight decay 0.05), batch 64,
``--steps`` steps, the same data order for every option of a seed. Options: ``softmax``; ``norm_softmax``
(the official code's NormSoftmax: logits / min(sqrt(d), row variance)); ``norm_softmax_std`` (the row's standard
deviation instead); ``heat`` (softmax with heat treatment, 3.0 -> 0.125 for 64-d heads over the
first half of the run, stepped by the model's per-step hook). Every ``--every`` steps the training accuracy on a
fixed 2048 training pairs is measured (no gradient; the model as it trains, so heat treatment counts). Reported:
the first step at which it reaches ``--target`` (the plateau broken), per seed, mean and 95% interval over
seeds (t distribution; runs that never reach it are listed, not averaged), and the test accuracy at the end.

    python benchmarks/bench_eureka.py                         # 3 seeds x 3 options, writes docs/results/eureka.*
    python benchmarks/bench_eureka.py --readme README.md      # also rewrites the README's table
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from hfvid.backbones import build_backbone

OPTIONS = {
    "softmax": {},
    "norm_softmax": {"attention": "norm_softmax"},
    "norm_softmax_std": {"attention": "norm_softmax_std"},
    "heat": {"heat_treatment": True},
}
BACKBONE = {"arch": "vit", "image_size": 16, "num_frames": 2, "patch_size": 8, "tubelet_size": 1, "hidden_size": 64,
            "depth": 4, "num_heads": 4, "cls_token": True, "pooling": "cls"}  # fmt: skip
START, END = "<!-- bench_eureka: start -->", "<!-- bench_eureka: end -->"
T_975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def digit_pairs(images: np.ndarray, digits: np.ndarray, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` clips (count, 2, 3, 16, 16) of two random digits from ``images``, and their labels."""
    rng = np.random.default_rng(seed)
    first, second = rng.integers(len(images), size=(2, count))
    frames = torch.from_numpy(images[np.stack([first, second], axis=1)]).float() / 16.0  # (count, 2, 8, 8) in [0, 1]
    frames = frames.repeat_interleave(2, dim=-1).repeat_interleave(2, dim=-2)  # 16 x 16
    clips = (frames[:, :, None].expand(-1, -1, 3, -1, -1) - 0.5) / 0.5
    a, b = torch.from_numpy(digits[first]), torch.from_numpy(digits[second])
    return clips.contiguous(), torch.where(a < 5, b, 9 - b)


class Classifier(torch.nn.Module):
    def __init__(self, option: str):
        super().__init__()
        self.backbone = build_backbone({**BACKBONE, **OPTIONS[option]})
        self.head = torch.nn.Linear(BACKBONE["hidden_size"], 10)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(clips).pooler_output)


@torch.no_grad()
def accuracy(model: Classifier, clips: torch.Tensor, labels: torch.Tensor) -> float:
    return float((model(clips).argmax(dim=1) == labels).float().mean())


def run(option: str, seed: int, args, data) -> dict:
    (train_images, train_digits), test = data
    torch.manual_seed(seed)
    model = Classifier(option).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    probe = digit_pairs(train_images, train_digits, 2048, seed=10_000 + seed)
    curve, reached = [], None
    for step in range(1, args.steps + 1):
        clips, labels = digit_pairs(train_images, train_digits, 64, seed=seed * 1_000_003 + step)  # same for every option
        loss = torch.nn.functional.cross_entropy(model(clips), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.backbone.training_progress(step, args.steps)  # what a model's after_optimizer_step does
        if step % args.every == 0 or step == args.steps:
            train_accuracy = accuracy(model, *probe)
            curve.append((step, train_accuracy))
            if reached is None and train_accuracy >= args.target:
                reached = step
    model.eval()
    return {"option": option, "seed": seed, "curve": curve, "reached": reached, "test_accuracy": accuracy(model, *test)}


def interval(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.0f}"
    half = T_975[len(values) - 1] * statistics.stdev(values) / math.sqrt(len(values))
    return f"{statistics.mean(values):.0f} +- {half:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--target", type=float, default=0.9, help="training accuracy that counts as the plateau broken")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("docs/results/eureka"), help="writes <output>.md, .json and .png")
    parser.add_argument("--readme", type=Path, help=f"rewrite the table between {START} and {END} in this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    digits = load_digits()
    images, labels = digits.images.astype(np.float32), digits.target
    test = digit_pairs(images[1200:], labels[1200:], 4096, seed=99)
    data = ((images[:1200], labels[:1200]), test)
    started = time.perf_counter()
    results = []
    for seed in args.seeds:
        for option in args.options:
            result = run(option, seed, args, data)
            results.append(result)
            print(f"{option:13} seed {seed}: reached {args.target:.0%} at step {result['reached']}, "
                  f"final train {result['curve'][-1][1]:.3f}, test {result['test_accuracy']:.3f}", flush=True)  # fmt: skip
    seconds = time.perf_counter() - started

    command = "python benchmarks/bench_eureka.py " + shlex.join(sys.argv[1:])
    lines = [
        f"`{command.strip()}` ({len(args.seeds)} seeds, {args.steps} steps of 64 pairs, {seconds:.0f} s on "
        f"{args.threads} CPU thread(s); chance 10%, reading b alone at most 50%):",
        "",
        f"| attention | first step at {args.target:.0%} training accuracy, per seed | mean +- 95% interval (seeds that reached it) | final training accuracy | test accuracy |",
        "|---|---|---:|---:|---:|",
    ]
    for option in args.options:
        runs = [r for r in results if r["option"] == option]
        reached = [r["reached"] for r in runs]
        finals = [r["curve"][-1][1] for r in runs]
        tests = [r["test_accuracy"] for r in runs]
        lines.append(
            f"| {option} | {', '.join('never' if x is None else str(x) for x in reached)} | "
            f"{interval([x for x in reached if x is not None])} | {statistics.mean(finals):.3f} | {statistics.mean(tests):.3f} |"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=1))
    plot(results, args, args.output.with_suffix(".png"))
    text = "\n".join(lines) + f"\n\n![training accuracy vs steps]({args.output.with_suffix('.png').name})\n"
    args.output.with_suffix(".md").write_text("# Eureka moments: NormSoftmax and heat treatment at our scale\n\n" + text)
    print("\n".join(lines))
    if args.readme:
        readme = args.readme.read_text()
        if START not in readme or END not in readme:
            raise SystemExit(f"{args.readme} has no {START} ... {END} section")
        block = "\n".join([START, *lines, "", f"![training accuracy vs steps]({args.output.with_suffix('.png')})", END])
        args.readme.write_text(readme[: readme.index(START)] + block + readme[readme.index(END) + len(END) :])
        print(f"rewrote the table in {args.readme}")


def plot(results: list[dict], args, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"softmax": "tab:blue", "norm_softmax": "tab:orange", "norm_softmax_std": "tab:red", "heat": "tab:green"}
    figure, axis = plt.subplots(figsize=(7, 4))
    for result in results:
        steps, values = zip(*result["curve"])
        first = result["seed"] == args.seeds[0]
        axis.plot(steps, values, color=colours[result["option"]], alpha=0.8, label=result["option"] if first else None)
    axis.axhline(0.1, color="grey", linestyle=":", label="chance")
    axis.axhline(0.5, color="grey", linestyle="--", label="reading b alone")
    axis.set_xlabel("step")
    axis.set_ylabel("training accuracy")
    axis.set_ylim(0, 1)
    axis.set_title(f"digit pairs, video ViT tiny, {len(args.seeds)} seeds per option")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
