"""Why VideoMAE (and V-JEPA) leave the tiny ViT at its random init on SynthMotion: what the loss could reach, what
it reaches, and what the encoder's features score early and late in training, on RGB frames and on frame
differences.

    python benchmarks/bench_videomae_diagnosis.py --output docs/results/videomae_diagnosis.md
    python benchmarks/bench_videomae_diagnosis.py --preset vjepa-vit-tiny --output docs/results/vjepa_diagnosis.md

For ``--preset`` (``videomae-vit-tiny``: transformers' `VideoMAEForPreTraining`; ``vjepa-vit-tiny``: hfvid's
`VJEPAForPreTraining`, with its EMA target encoder stepped after every optimiser step), each ``--inputs`` (``rgb``:
the preset as it is; ``frame_difference``: the same model given the differences of consecutive frames, as every
tiny R3D preset's backbone sees them, via `hfvid.backbones.base.frame_differences`) and seed:

1. **What the loss could reach** (VideoMAE only). On ``--probe_videos`` pre-training clips of the processor, the
   normalised-pixel loss of three fixed guesses of a patch: 0 (the patch's own mean: what the loss is at the
   start), the same patch one tubelet later (what a masked patch can copy when its next tubelet is visible, as
   random masking allows), and the patch to its right.
2. **What it reaches.** ``--steps`` optimiser steps of ``--batch_size`` videos drawn at random from the training
   split, through the preset's processor (its masks, augmentation and clips), AdamW at ``--learning_rate`` and
   ``--weight_decay`` (pretrain.py's default 1e-4; V-JEPA's recipe uses 0.04), ``--warmup_steps`` of linear warm-up,
   then cosine: the loss's mean over each quarter of the run. This loop is the script's own (no accelerate, no
   checkpoints), to score the encoder mid-run. ``--fixed_batch``: one batch throughout (whether the model can fit anything).
   ``--static_clips``: every pre-training clip (and the probe clips) its first frame repeated, so that under random
   masking a masked patch can be copied from the same place at another time step (whether the model can learn to
   copy at all; the evaluation's clips stay as they are).
3. **What the features score.** The frozen encoder as a saved folder gives it to `AutoModel` (its tokens
   averaged) on the test split (retrieval R@1, kNN and linear probe, as `bench_ssl_methods.py` scores them): at
   random init (`random_init_model`, the same seed), after ``--early_steps`` steps, and at the end.

One torch thread; about 4 minutes a seed and input on one core for VideoMAE, about twice that for V-JEPA.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig, AutoModel, get_cosine_schedule_with_warmup
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from transformers.utils import logging as transformers_logging

import hfvid
from hfvid.backbones.base import frame_differences
from hfvid.data.decoding import VideoReader
from hfvid.data.sources import load_video_dataset
from hfvid.evaluation.report import evaluate_model, mean_interval
from hfvid.models.modeling_utils import random_init_model
from hfvid.models.video_processing_utils import MaskedClipVideoProcessor
from hfvid.presets import load_for_pretraining, processor_for_config
from hfvid.utils.cli import parse_config_overrides

INPUTS = ("rgb", "frame_difference")
GUESSES = ("zero", "next tubelet", "right neighbour")  # of a patch: its mean; the same patch a tubelet on; the next patch
METRICS = {"R@1": "R@1", "knn_top1": "kNN", "linear_top1": "linear"}


def frame_difference_processor(processor):
    """``processor`` (a masked method's pre-training processor) with its clips, pre-training views and evaluation
    clips alike, turned into the differences of consecutive normalised frames (the last one repeated: the token grid
    stays)."""

    class FrameDifferences(type(processor)):
        def to_model_input(self, clip: torch.Tensor) -> torch.Tensor:
            return frame_differences(super().to_model_input(clip)[None], self.tubelet_size)[0]

        def preprocess(self, videos, **kwargs):
            batch = super().preprocess(videos, **kwargs)
            name = self.model_input_names[0]
            batch[name] = frame_differences(batch[name], self.tubelet_size)
            return batch

    return FrameDifferences(**processor.to_dict())


def encoder_of(model):
    """The frozen encoder a saved folder of ``model`` gives `AutoModel` (VideoMAE: `VideoMAEModel`; V-JEPA:
    `VJEPA2Model` with the context encoder's weights), as `bench_ssl_methods.py` scores it. Leaves torch's random
    state as it was."""
    state = torch.get_rng_state()
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save_pretrained(folder)
        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()  # the pre-training heads are expected left-overs
        try:
            encoder = AutoModel.from_pretrained(folder)
        finally:
            transformers_logging.set_verbosity(verbosity)
    torch.set_rng_state(state)
    return encoder


def saved_config(config):
    """``config`` as a saved folder gives it to `AutoConfig` (VideoMAE: a plain `VideoMAEConfig`; V-JEPA:
    `VJEPA2Config`): what `AutoModel` builds the frozen encoder from."""
    with tempfile.TemporaryDirectory() as folder:
        config.save_pretrained(folder)
        return AutoConfig.from_pretrained(folder)


def normalised_patches(pixel_values: torch.Tensor, config) -> torch.Tensor:
    """(batch, T, C, H, W) model input -> the loss's targets (batch, t, h, w, tubelet * p * p * C): each patch's
    pixels, un-normalised as `VideoMAEForPreTraining` does and normalised per patch and channel as its
    ``norm_pix_loss`` does."""
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN)[None, None, :, None, None]
    std = torch.tensor(IMAGENET_DEFAULT_STD)[None, None, :, None, None]
    frames = pixel_values * std + mean
    batch, time_steps, channels, height, width = frames.shape
    p, tubelet = config.patch_size, config.tubelet_size
    patches = frames.view(batch, time_steps // tubelet, tubelet, channels, height // p, p, width // p, p)
    patches = patches.permute(0, 1, 4, 6, 2, 5, 7, 3).reshape(batch, time_steps // tubelet, height // p, width // p, -1, channels)
    normalised = (patches - patches.mean(-2, keepdim=True)) / (patches.var(-2, unbiased=True, keepdim=True).sqrt() + 1e-6)
    return normalised.flatten(-2)


def loss_bounds(targets: torch.Tensor) -> dict[str, float]:
    """The loss of three fixed guesses of every patch (mean squared error over the patch's values)."""
    errors = (
        (targets**2).mean(),
        ((targets[:, 1:] - targets[:, :-1]) ** 2).mean(),
        ((targets[:, :, :, 1:] - targets[:, :, :, :-1]) ** 2).mean(),
    )
    return {name: error.item() for name, error in zip(GUESSES, errors)}


def source(data_dir: str) -> str:
    """The data: a SynthMotion folder as it is, or the built-in SynthMotion generated into ``data_dir``."""
    return data_dir if (Path(data_dir) / "synthmotion.json").is_file() else "synthmotion"


def score(encoder, processor, seed: int, data_dir: str) -> dict[str, float]:
    results = evaluate_model(
        encoder.eval(), processor, source=source(data_dir), protocols=["retrieval", "knn", "linear"], seed=seed,
        progress=False, synthmotion_dir=data_dir,
    )  # fmt: skip
    return {name: 100 * results["metrics"][name] for name in METRICS}


def run(args, input_kind: str, seed: int) -> dict:
    overrides = parse_config_overrides(args.config_overrides)
    config = hfvid.get_config(args.preset, **overrides)
    processor = processor_for_config(config)
    if input_kind == "frame_difference":
        processor = frame_difference_processor(processor)
    train = load_video_dataset(source(args.data_dir), split="train", synthmotion_dir=args.data_dir)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)  # the augmentation draws from torch's generator: the probe and fixed batches too

    def batch(size: int):
        views = processor.preprocess_pretraining([VideoReader(train[int(i)]["video"]) for i in rng.integers(0, len(train), size)], rng=rng)
        if args.static_clips:
            name = processor.model_input_names[0]
            views[name] = views[name][:, :1].expand_as(views[name]).contiguous()
        return views

    probe = batch(args.probe_videos)
    bounds = loss_bounds(normalised_patches(probe["pixel_values"], config)) if "bool_masked_pos" in probe else None
    fixed = batch(args.batch_size) if args.fixed_batch else None
    scores = {"random init": score(random_init_model(saved_config(config), seed), processor, seed, args.data_dir)}
    torch.manual_seed(seed)
    model = load_for_pretraining(args.preset, **overrides)[0].train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, args.warmup_steps, args.steps)
    losses, start = [], time.perf_counter()
    for step in range(1, args.steps + 1):
        views = fixed if args.fixed_batch else batch(args.batch_size)
        loss = model(**views).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if hasattr(model, "after_optimizer_step"):  # V-JEPA's EMA target encoder (VideoMAE has no per-step work)
            model.after_optimizer_step(step, args.steps)
        losses.append(loss.item())
        if step == args.early_steps:
            scores[f"after {step} steps"] = score(encoder_of(model), processor, seed, args.data_dir)
        if step % max(1, args.steps // 4) == 0:
            print(f"{input_kind} seed {seed} step {step}: loss {np.mean(losses[-args.steps // 4:]):.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    scores[f"after {args.steps} steps"] = score(encoder_of(model), processor, seed, args.data_dir)
    quarters = [float(np.mean(part)) for part in np.array_split(np.array(losses), 4)]
    return {"input": input_kind, "seed": seed, "bounds": bounds, "loss_quarters": quarters, "scores": scores}


def table(runs: list[dict]) -> str:
    lines = []
    lines += ["| input | loss if it guessed: " + " | ".join(GUESSES) + " | training loss by quarter of the run |", "|---|" + "---:|" * len(GUESSES) + "---|"]
    for input_kind in dict.fromkeys(run["input"] for run in runs):
        mine = [run for run in runs if run["input"] == input_kind]
        cells = [f"{np.mean([run['bounds'][name] for run in mine]):.3f}" if mine[0]["bounds"] else "-" for name in GUESSES]
        quarters = " / ".join(f"{np.mean([run['loss_quarters'][q] for run in mine]):.3f}" for q in range(4))
        lines.append(f"| {input_kind} | " + " | ".join(cells) + f" | {quarters} |")
    lines += ["", "| input | encoder | " + " | ".join(f"{label} (%)" for label in METRICS.values()) + " | per seed, linear |", "|---|---|" + "---:|" * (len(METRICS) + 1)]
    for input_kind in dict.fromkeys(run["input"] for run in runs):
        mine = [run for run in runs if run["input"] == input_kind]
        for stage in mine[0]["scores"]:
            cells = []
            for name in METRICS:
                mean, half = mean_interval([run["scores"][stage][name] for run in mine])
                cells.append(f"{mean:.1f} +- {half:.1f}")
            per_seed = ", ".join(f"{run['scores'][stage]['linear_top1']:.1f}" for run in mine)
            lines.append(f"| {input_kind} | {stage} | " + " | ".join(cells) + f" | {per_seed} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="videomae-vit-tiny", help="a masked method's preset: videomae-vit-tiny or vjepa-vit-tiny")
    parser.add_argument("--inputs", default=",".join(INPUTS), help=f"comma-separated, of {INPUTS}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--early_steps", type=int, default=100, help="also score the encoder after this many steps")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--weight_decay", type=float, default=1e-4, help="AdamW's (pretrain.py's default)")
    parser.add_argument("--warmup_steps", type=int, default=20)
    parser.add_argument("--fixed_batch", action="store_true", help="train on one batch throughout (can the model fit it at all?)")
    parser.add_argument("--static_clips", action="store_true", help="pre-train on clips without motion: each clip's first frame repeated")
    parser.add_argument("--probe_videos", type=int, default=64, help="clips for the loss's fixed guesses")
    parser.add_argument("--config_overrides", default=None, help="of --preset, e.g. masking=random,mask_ratio=0.5")
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=None, help="also write the tables, with this command, to this markdown file")
    args = parser.parse_args(argv)
    inputs = args.inputs.split(",")
    if not set(inputs) <= set(INPUTS):
        raise SystemExit(f"--inputs takes {INPUTS}; got {args.inputs!r}")
    if not isinstance(processor_for_config(hfvid.get_config(args.preset)), MaskedClipVideoProcessor):
        raise SystemExit(f"--preset takes a masked method's preset (videomae-vit-tiny, vjepa-vit-tiny, ...); {args.preset} is not one")
    torch.set_num_threads(args.threads)
    runs = [run(args, input_kind, int(seed)) for input_kind in inputs for seed in args.seeds.split(",")]
    text = table(runs)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/bench_videomae_diagnosis.py " + shlex.join(sys.argv[1:] if argv is None else argv)
        output = Path(args.output)
        output.write_text(
            f"# {args.preset}: what its loss could reach, what it reaches, what its features score\n\n"
            f"Written by `{command}` on {date.today()}: the {args.preset} preset"
            f"{' with ' + args.config_overrides if args.config_overrides else ''}, {args.steps} steps x {args.batch_size} "
            f"SynthMotion videos{' (one batch throughout)' if args.fixed_batch else ''}{' (each clip its first frame repeated)' if args.static_clips else ''}, AdamW {args.learning_rate} (weight decay {args.weight_decay}), seeds {args.seeds}; frozen features on the SynthMotion test "
            f"split, mean +- 95% t-interval over the seeds.\n\n{text}\n"
        )
        output.with_suffix(".json").write_text(json.dumps(runs, indent=1) + "\n")
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
