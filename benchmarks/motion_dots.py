"""DotMotion: a motion data set from another renderer than SynthMotion's, to check that what is learnt is motion.

    python benchmarks/motion_dots.py --out data/motion_dots            # 250 + 32 videos per class, ~20 s

SynthMotion's 8 motion semantics (translate left/right/up/down, rotate cw/ccw, zoom in/out), drawn differently on
purpose: the object is a constellation of 5-9 coloured Gaussian dots splatted analytically (SynthMotion warps a
textured digit or shape with grid sampling), over a procedural background (smoothed colour noise, a grating or a
gradient, drifting by at most 0.3 px a frame; SynthMotion pans photos and video frames), and it moves at one uniform
speed drawn per video (SynthMotion decelerates). Nothing here is imported by the library or tuned for it: it is an
evaluation set, kept in benchmarks/.

The layout is a plain video folder, ``<out>/{train,test}/<class>/<id>.mp4``, so every hfvid command takes it as
``--dataset <out>`` (labels come from the class folders, in sorted order).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hfvid.data.encoding import write_mp4  # noqa: E402

CLASSES = ("translate_left", "translate_right", "translate_up", "translate_down", "rotate_cw", "rotate_ccw", "zoom_in", "zoom_out")
SIZE, NUM_FRAMES, FPS = 64, 32, 16
TRANSLATION_PX = (1.0, 2.5)  # px per frame, uniform over the video
ROTATION_DEG = (4.0, 10.0)  # degrees per frame
ZOOM_LOG = (0.02, 0.045)  # log scale change per frame
VERSION = 1


def _background(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """(T, H, W, 3) float in [0, 1]: smoothed colour noise, a grating or a gradient, drifting slowly."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    drift_angle = rng.uniform(0, 2 * np.pi)
    drift = rng.uniform(0, 0.3) * np.array([np.cos(drift_angle), np.sin(drift_angle)])
    colours = rng.uniform(0.1, 0.9, size=(2, 3))
    kind = ("noise", "grating", "gradient")[int(rng.integers(3))]
    period, angle = rng.uniform(6, 20), rng.uniform(0, 2 * np.pi)
    if kind == "noise":  # low-pass filtered white noise on a larger canvas, so that drifting never wraps visibly
        side = 3 * SIZE
        fy, fx = np.meshgrid(np.fft.fftfreq(side), np.fft.fftfreq(side), indexing="ij")
        cutoff = rng.uniform(0.01, 0.04)
        field = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(side, side))) * np.exp(-(fx**2 + fy**2) / (2 * cutoff**2))))
        field = (field - field.min()) / (np.ptp(field) + 1e-9)
    frames = np.empty((num_frames, SIZE, SIZE, 3))
    for t in range(num_frames):
        x, y = xx - drift[0] * t, yy - drift[1] * t
        if kind == "noise":
            weight = field[np.round(y).astype(int) + SIZE, np.round(x).astype(int) + SIZE]
        elif kind == "grating":
            weight = 0.5 + 0.5 * np.sin(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / period)
        else:
            weight = np.clip(0.5 + ((x - SIZE / 2) * np.cos(angle) + (y - SIZE / 2) * np.sin(angle)) / SIZE, 0, 1)
        frames[t] = colours[0] * (1 - weight[..., None]) + colours[1] * weight[..., None]
    return frames


def render(label: int, rng: np.random.Generator) -> np.ndarray:
    """One video of class ``label``: uint8 (T, H, W, 3)."""
    motion = CLASSES[label]
    num_dots = int(rng.integers(5, 10))
    radius = rng.uniform(0.13, 0.22) * SIZE  # the constellation's radius at mid-clip, px
    offsets = rng.normal(size=(num_dots, 2))
    offsets *= radius * np.sqrt(rng.uniform(0.1, 1, num_dots))[:, None] / np.linalg.norm(offsets, axis=1, keepdims=True)
    sigmas = rng.uniform(1.2, 2.6, num_dots)
    colours = rng.uniform(0, 1, size=(num_dots, 3))
    colours[:, int(rng.integers(3))] = 1.0  # saturated, so the dots stand out of any background
    centre = SIZE / 2 + rng.uniform(-0.15, 0.15, 2) * SIZE

    time = np.arange(NUM_FRAMES) - (NUM_FRAMES - 1) / 2
    direction = {"translate_left": (-1, 0), "translate_right": (1, 0), "translate_up": (0, -1), "translate_down": (0, 1)}
    shift = np.array(direction.get(motion, (0, 0)), dtype=np.float64) * rng.uniform(*TRANSLATION_PX)
    turn = {"rotate_cw": 1, "rotate_ccw": -1}.get(motion, 0) * np.deg2rad(rng.uniform(*ROTATION_DEG))
    zoom = {"zoom_in": 1, "zoom_out": -1}.get(motion, 0) * rng.uniform(*ZOOM_LOG)
    start_angle = rng.uniform(0, 2 * np.pi)

    frames = _background(rng, NUM_FRAMES)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    for t, tau in enumerate(time):
        angle, scale = start_angle + turn * tau, np.exp(zoom * tau)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])  # y down: cw on screen
        points = centre + shift * tau + scale * offsets @ rotation.T
        alpha = np.zeros((SIZE, SIZE))
        colour = np.zeros((SIZE, SIZE, 3))
        for (px, py), sigma, dot_colour in zip(points, sigmas * scale, colours):
            weight = np.exp(-((xx - px) ** 2 + (yy - py) ** 2) / (2 * sigma**2))
            colour += weight[..., None] * dot_colour
            alpha += weight
        colour /= np.maximum(alpha, 1e-9)[..., None]
        alpha = np.clip(alpha, 0, 1)[..., None]
        frames[t] = frames[t] * (1 - alpha) + colour * alpha
    return (np.clip(frames, 0, 1) * 255).round().astype(np.uint8)


def _write(task: tuple[int, int, str]) -> None:
    label, seed, path = task
    write_mp4(path, render(label, np.random.default_rng(seed)), fps=FPS)


def generate(out: str | os.PathLike, train_per_class: int = 250, test_per_class: int = 32, seed: int = 1234, workers: int | None = None) -> Path:
    """Write the set under ``out`` (skipped when a complete set of the same settings is there); returns it."""
    out = Path(out)
    settings = {"version": VERSION, "train_per_class": train_per_class, "test_per_class": test_per_class, "seed": seed}
    marker = out / "motion_dots.json"
    if marker.is_file() and json.loads(marker.read_text()) == settings:
        return out
    tasks = []
    for split_index, (split, per_class) in enumerate((("train", train_per_class), ("test", test_per_class))):
        for label, name in enumerate(CLASSES):
            (out / split / name).mkdir(parents=True, exist_ok=True)
            for index in range(per_class):
                video_seed = int(np.random.SeedSequence([seed, split_index, label, index]).generate_state(1)[0])
                tasks.append((label, video_seed, str(out / split / name / f"{index:05d}.mp4")))
    with multiprocessing.get_context("fork").Pool(workers or os.cpu_count()) as pool:
        for done, _ in enumerate(pool.imap_unordered(_write, tasks, chunksize=8), 1):
            if done % 250 == 0 or done == len(tasks):
                print(f"DotMotion: {done}/{len(tasks)} videos", flush=True)
    marker.write_text(json.dumps(settings) + "\n")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="data/motion_dots")
    parser.add_argument("--train_per_class", type=int, default=250)
    parser.add_argument("--test_per_class", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    print(generate(args.out, args.train_per_class, args.test_per_class, args.seed))


if __name__ == "__main__":
    main()
