"""Can the tiny video ViT see SynthMotion's motion at all? Supervised, from random weights, in memory.

    python benchmarks/bench_vit_supervised.py                                    # RGB / differences, patch 8 / 4
    python benchmarks/bench_vit_supervised.py --variants diff_p4 --seeds 0,1,2
    python benchmarks/bench_vit_supervised.py --variants rgb_p8,rgb_p4 --seeds 0,1,2
    python benchmarks/bench_vit_supervised.py --variants r3d_rgb --seeds 0,1,2
    python benchmarks/bench_vit_supervised.py --variants videomae_rgb,vjepa_rgb --seeds 0,1,2
    python benchmarks/bench_vit_supervised.py --task arrow --variants diff_p8,r3d_diff --seeds 0,1,2

A ceiling check before any self-supervised ViT number means something (issue 18): the ``vit_tiny`` backbone (4
blocks of width 64, 2-frame tubelets, 32 px) and a linear classifier trained together with labels, AdamW lr 1e-3,
weight decay 0.05, 100 warm-up steps then cosine, 16 clips of 8 consecutive frames a step at random positions
(SynthMotion's training split decoded once into memory by `bench_plateau.load_split`, standardised; no
augmentation); scored on each test video's middle clip (256 videos, chance 12.5%).

``--task arrow`` asks instead whether a clip plays forwards or backwards (each training clip reversed with
probability 1/2; every test video's middle clip both ways, 512 clips, chance 50%): the arrow of time with labels,
which SynthMotion's decelerating motion carries and which TransRank's 1x-vs-reverse ranking needs. Variant
``r3d_diff`` is the R3D tiny on differences (``r3d_tiny_diff``) in the same loop, for comparison (``r3d_rgb``: on RGB
frames, beside ``rgb_p8`` and ``rgb_p4``, the ViT on RGB with 8 x 8 and 4 x 4 patches; ``rgb_p8_patchnorm``: each
patch normalised by its own mean and standard deviation first; ``rgb_p8_diffinit``: half the patch filters start as
differences of the tubelet's two frames: screens for the ViT on RGB, docs/learning.md, session 22; ``videomae_rgb``
and ``vjepa_rgb``: the VideoMAE and V-JEPA presets' own encoders, transformers' models, in the same loop); ``diff_p8_sin``
(fixed sinusoidal positions), ``diff_p8_t1`` (1-frame tubelets) and ``diff_p8_convstem`` (two 3x3x3 convolutions
before the patches) are the levers screened for the ViT's arrow of time (docs/learning.md, session 13).
``diff_p8_drop75`` and ``diff_p4_drop75`` drop 75% of the tokens at random in every training step (none at test):
issue 18's token-dropping claim ("the representation loses little") with labels, where no self-supervised method moves
the tiny ViT off random init; ``diff_p4_drop75_4x`` runs 4x the steps, in no more CPU time than ``diff_p4``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from transformers import VideoMAEModel, VJEPA2Model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_plateau import FRAMES, load_standardised, warmup_cosine  # noqa: E402

import hfvid  # noqa: E402
from hfvid.backbones import backbone_config, build_backbone  # noqa: E402
from hfvid.backbones.base import frame_differences  # noqa: E402
from hfvid.evaluation.report import mean_interval, paired_summary  # noqa: E402

VARIANTS = {  # name -> (backbone preset, overrides)
    "rgb_p8": ("vit_tiny", {"input": "rgb", "patch_size": 8}),
    "rgb_p4": ("vit_tiny", {"input": "rgb", "patch_size": 4}),
    "rgb_p8_patchnorm": ("patch_norm", {"input": "rgb", "patch_size": 8}),
    "rgb_p8_diffinit": ("difference_init", {"input": "rgb", "patch_size": 8}),
    "videomae_rgb": ("videomae-vit-tiny", {}),
    "vjepa_rgb": ("vjepa-vit-tiny", {}),
    "diff_p8": ("vit_tiny", {"input": "frame_difference", "patch_size": 8}),
    "diff_p4": ("vit_tiny", {"input": "frame_difference", "patch_size": 4}),
    "diff_p8_sin": ("vit_tiny", {"input": "frame_difference", "patch_size": 8, "position_embedding": "sinusoidal"}),
    "diff_p8_t1": ("vit_tiny", {"input": "frame_difference", "patch_size": 8, "tubelet_size": 1}),
    "diff_p8_convstem": ("conv_stem", {"patch_size": 8}),
    "diff_p8_drop75": ("vit_tiny", {"input": "frame_difference", "patch_size": 8, "token_drop_ratio": 0.75}),
    "diff_p4_drop75": ("vit_tiny", {"input": "frame_difference", "patch_size": 4, "token_drop_ratio": 0.75}),
    "diff_p4_drop75_4x": ("vit_tiny", {"input": "frame_difference", "patch_size": 4, "token_drop_ratio": 0.75}),
    "r3d_diff": ("r3d_tiny_diff", {}),
    "r3d_rgb": ("r3d_tiny", {}),
}
STEPS_FACTOR = {"diff_p4_drop75_4x": 4}  # the same CPU time or less: a step with 75% of the tokens dropped costs ~0.22x


class ConvStemViT(torch.nn.Module):
    """Screen (variant ``diff_p8_convstem``): frame differences -> two 3x3x3 convolutions (16 channels, GELU) -> the
    ViT on those 16 channels; the convolutional stem of "Early convolutions help transformers see better" in 3-D."""

    def __init__(self, overrides: dict) -> None:
        super().__init__()
        self.stem = torch.nn.Sequential(
            torch.nn.Conv3d(3, 16, 3, padding=1), torch.nn.GELU(), torch.nn.Conv3d(16, 16, 3, padding=1), torch.nn.GELU()
        )
        self.vit = build_backbone(backbone_config("vit_tiny", in_channels=16, **overrides))
        self.num_features = self.vit.num_features

    def forward(self, clips: torch.Tensor):
        differences = frame_differences(clips, self.vit.config["tubelet_size"])
        return self.vit(self.stem(differences.transpose(1, 2)).transpose(1, 2))


class PatchNormViT(torch.nn.Module):
    """Screen (variant ``rgb_p8_patchnorm``): each tubelet patch of the RGB clip normalised by its own mean and standard
    deviation per channel, as VideoMAE normalises its targets (``norm_pix_loss``), before the ViT."""

    def __init__(self, overrides: dict) -> None:
        super().__init__()
        self.vit = build_backbone(backbone_config("vit_tiny", **overrides))
        self.num_features = self.vit.num_features

    def forward(self, clips: torch.Tensor):
        batch, frames, channels, height, width = clips.shape
        p, t = self.vit.config["patch_size"], self.vit.config["tubelet_size"]
        patches = clips.reshape(batch, frames // t, t, channels, height // p, p, width // p, p)
        mean, std = patches.mean(dim=(2, 5, 7), keepdim=True), patches.std(dim=(2, 5, 7), keepdim=True)
        return self.vit(((patches - mean) / (std + 1e-6)).reshape(clips.shape))


class PresetEncoder(torch.nn.Module):
    """Variants ``videomae_rgb`` and ``vjepa_rgb``: the encoder of a masked method's preset as its saved folder gives
    it (transformers' `VideoMAEModel`; `VJEPA2Model`'s encoder), its tokens averaged, on RGB frames."""

    def __init__(self, preset: str) -> None:
        super().__init__()
        config = hfvid.get_config(preset)
        self.encoder = VideoMAEModel(config) if preset.startswith("videomae") else VJEPA2Model(config).encoder
        self.num_features = config.hidden_size

    def forward(self, clips: torch.Tensor):
        tokens = self.encoder(clips).last_hidden_state
        return SimpleNamespace(pooler_output=tokens.mean(dim=1))


def run(variant: tuple[str, dict], seed: int, steps: int, train: tuple, test: tuple, task: str = "motion") -> dict:
    torch.manual_seed(seed)
    if variant[0] == "conv_stem":
        backbone = ConvStemViT(variant[1])
    elif variant[0] in ("videomae-vit-tiny", "vjepa-vit-tiny"):
        backbone = PresetEncoder(variant[0])
    elif variant[0] == "patch_norm":
        backbone = PatchNormViT(variant[1])
    elif variant[0] == "difference_init":
        backbone = build_backbone(backbone_config("vit_tiny", **variant[1]))
        with torch.no_grad():  # half the patch filters start as temporal differences: w at t = 1 is minus w at t = 0
            weight = backbone.embeddings.patch_embedding.weight  # (hidden, channels, tubelet 2, p, p)
            half = len(weight) // 2
            weight[:half, :, 1] = -weight[:half, :, 0]
    else:
        backbone = build_backbone(backbone_config(variant[0], **variant[1]))
        backbone.token_dropping = True  # as pre-training sets it: tokens dropped in training steps only, if the config says
    head = torch.nn.Linear(backbone.num_features, 8 if task == "motion" else 2)
    optimizer = torch.optim.AdamW([*backbone.parameters(), *head.parameters()], lr=1e-3, weight_decay=0.05)
    schedule = warmup_cosine(optimizer, steps, warmup=100)
    rng, frames, accuracies, started = np.random.default_rng(seed), train[0].shape[1], [], time.process_time()
    for _ in range(steps):
        videos, starts = rng.integers(0, len(train[0]), 16), rng.integers(0, frames - FRAMES + 1, 16)
        clips = torch.stack([train[0][v, s : s + FRAMES] for v, s in zip(videos, starts)])
        labels = train[1][videos]
        if task == "arrow":
            labels = torch.as_tensor(rng.integers(0, 2, 16))
            clips = torch.where(labels[:, None, None, None, None].bool(), clips.flip(1), clips)
        logits = head(backbone(clips).pooler_output)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        accuracies.append((logits.argmax(1) == labels).float().mean().item())
    backbone.eval()
    middle = (frames - FRAMES) // 2
    clips, labels = test[0][:, middle : middle + FRAMES], test[1]
    if task == "arrow":
        clips, labels = torch.cat([clips, clips.flip(1)]), torch.arange(2).repeat_interleave(len(clips))
    with torch.no_grad():
        predicted = torch.cat([head(backbone(clips[i : i + 64]).pooler_output).argmax(1) for i in range(0, len(clips), 64)])
    return {"train_accuracy": 100 * float(np.mean(accuracies[-250:])), "test_accuracy": 100 * (predicted == labels).float().mean().item(),
            "cpu_seconds": time.process_time() - started}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {list(VARIANTS)}")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--data_dir", default="data/synthmotion", help="SynthMotion (generated if missing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--task", choices=("motion", "arrow"), default="motion",
                        help="motion: SynthMotion's 8 classes; arrow: does the clip play forwards or backwards (chance 50%%)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    train, test = load_standardised(args.data_dir)
    print("| variant | seed | training accuracy, last 250 steps (%) | test top-1 (%) | CPU s |\n|---|---:|---:|---:|---:|")
    names, seeds, tests = args.variants.split(","), [int(s) for s in args.seeds.split(",")], {}
    for name in names:
        for seed in seeds:
            r = run(VARIANTS[name], seed, args.steps * STEPS_FACTOR.get(name, 1), train, test, args.task)
            tests.setdefault(name, []).append(r["test_accuracy"])
            print(f"| {name} | {seed} | {r['train_accuracy']:.1f} | {r['test_accuracy']:.1f} | {r['cpu_seconds']:.0f} |", flush=True)
    if len(seeds) > 1:  # mean +- 95% t-interval over seeds, and each variant minus the first one, paired by seed
        print("\n| variant | test top-1, mean +- 95% interval | minus " + names[0] + ", paired by seed |\n|---|---:|---:|")
        for name in names:
            mean, half = mean_interval(tests[name])
            paired = "" if name == names[0] else paired_summary(tests[name], tests[names[0]])
            print(f"| {name} | {mean:.1f} +- {half:.1f} | {paired} |")


if __name__ == "__main__":
    main()
