"""Speediness of clips played at several speeds: the toy check of the TransRank write-up.

A TransRank or TransCls model (`TransRankForPreTraining`) pre-trained on a task holding "1x" and "2x"
scores every clip on both; the clip's speediness is ``score["2x"] - score["1x"]`` (larger: the clip
looks faster). Played at speeds the model never saw (0.5x, 4x), a model that learned speed as an
ordered quantity gives mean speediness 0.5x < 1x < 2x < 4x; the write-up reports that the ranking
loss (TransRank) gives this order and cross-entropy (TransCls) does not.

    scores = speediness_scores(model, processor, videos)     # {0.5: (V * clips,), 1.0: ..., 2.0: ..., 4.0: ...}
    speediness_summary(scores)["ordered"]
    means = whole_video_speediness(model, processor, videos) # {0.5: (V,), ...}: each video's mean over all its clips
    speediness_summary(means, clips_per_video=1)["videos_ordered"]
    plot_speediness({"TransRank": scores, "TransCls": cls_scores}, "speediness.png")

Clips are sampled at a random start from a generator seeded by ``(seed, video position)``, so the
scores depend neither on ``batch_size`` nor on the other videos; by default the clip at each position
starts at the same frame at every speed, so that speeds are compared on the same moment of the video.
`whole_video_speediness` draws nothing: it plays each whole video at each speed and averages the speediness of
every clip of it, so a video's mean at a speed is the same whichever way clips would be paired.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from hfvid.data.decoding import VideoDecodeError, open_video
from hfvid.data.sampling import clip_at, random_clip, sliding_clips
from hfvid.evaluation.features import decode_short_side
from hfvid.evaluation.plots import _save

logger = logging.getLogger(__name__)

DEFAULT_SPEEDS = (0.5, 1.0, 2.0, 4.0)
SLOW_NAME, FAST_NAME = "1x", "2x"


def speed_clip_indices(num_frames: int, clip_len: int, speed: float, rng: np.random.Generator) -> np.ndarray:
    """Frame indices (clip_len,) of one clip played at ``speed`` (frame stride ``speed``, no speed
    jitter, random start): 0.5 shows every frame twice, 2 every other frame. Videos too short for the
    clip loop, as in pre-training."""
    return random_clip(num_frames, clip_len, rng, stride=speed)


def same_start_clip_indices(num_frames: int, clip_len: int, speeds, rng: np.random.Generator) -> np.ndarray:
    """Frame indices (len(speeds), clip_len) of one moment of a video played at each of ``speeds``: one random
    start, drawn where the clip of the fastest speed fits, shared by every speed, so the clips differ in
    playback speed only (not in what happens in the video). Videos too short for the clip loop."""
    start = random_clip(num_frames, clip_len, rng, stride=max(speeds))[0]
    return np.stack([clip_at(start, num_frames, clip_len, speed) for speed in speeds])


def speediness_task(tasks: dict[str, list[str]], task: str | None = None) -> str:
    """Name of the task among ``tasks`` (name -> transformations, a model's ``transformation_tasks``) whose
    transformations include "1x" and "2x": ``task`` after checking it, else the only such task. Raises
    ValueError when there is none (or several)."""
    candidates = [name for name, names in tasks.items() if {SLOW_NAME, FAST_NAME} <= set(names)]
    if task is not None:
        if task not in candidates:
            raise ValueError(
                f"task {task!r} has no {SLOW_NAME!r} and {FAST_NAME!r} transformations; tasks that do: {candidates}"
            )
        return task
    if len(candidates) != 1:
        found = "none" if not candidates else f"several, {candidates}: pass task="
        raise ValueError(
            f"speediness needs a task with {SLOW_NAME!r} and {FAST_NAME!r} transformations; found {found} "
            f"(tasks: {tasks})"
        )
    return candidates[0]


def _video_clips(
    video, processor, speeds: tuple[float, ...], clips_per_video: int, rng, backend: str, same_start: bool
) -> torch.Tensor:
    """Model input (len(speeds) * clips_per_video, T, C, H, W) of one video, speed after speed,
    processed like evaluation clips (resize, centre crop, normalise)."""
    with open_video(video, backend=backend, max_short_side=decode_short_side(processor)) as reader:
        num_frames, clip_len = reader.metadata.num_frames, processor.num_frames
        if same_start:  # (clips, speeds, T) -> speed after speed
            indices = np.stack([same_start_clip_indices(num_frames, clip_len, speeds, rng) for _ in range(clips_per_video)])
            indices = indices.transpose(1, 0, 2).reshape(-1)
        else:
            indices = np.concatenate(
                [speed_clip_indices(num_frames, clip_len, speed, rng) for speed in speeds for _ in range(clips_per_video)]
            )
        frames = reader.get_frames(indices)
    clips = list(frames.split(processor.num_frames))
    return processor(clips, do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]


def _clip_groups(videos, processor, speeds, clips_per_video: int, seed: int, backend: str, progress: bool, same_start: bool):
    """The model input of each readable video (see `_video_clips`); unreadable videos are logged and skipped."""
    for position, video in enumerate(tqdm(videos, desc="speediness", disable=not progress)):
        rng = np.random.default_rng([seed, position])
        try:
            yield _video_clips(video, processor, speeds, clips_per_video, rng, backend, same_start)
        except (VideoDecodeError, IndexError) as error:
            logger.warning("leaving out unreadable video: %s", error)


def _rebatch(groups, batch_size: int):
    """Re-cut a stream of (n_i, ...) tensors into (batch_size, ...) tensors, the last one possibly smaller."""
    pending = []
    for group in groups:
        pending.append(group)
        merged = torch.cat(pending)
        while len(merged) >= batch_size:
            yield merged[:batch_size]
            merged = merged[batch_size:]
        pending = [merged]
    if pending and len(pending[0]):
        yield pending[0]


def _task_columns(model, task: str | None) -> tuple[str, int, int]:
    """The speediness task of ``model`` and the columns of "1x" and "2x" in its scores."""
    if not hasattr(model, "score_transformations"):
        raise ValueError(f"{type(model).__name__} scores no transformations (load the pre-training model of a method that does)")
    task = speediness_task(model.transformation_tasks, task)
    transformations = model.transformation_tasks[task]
    return task, transformations.index(SLOW_NAME), transformations.index(FAST_NAME)


def _check_speeds(speeds) -> tuple[float, ...]:
    speeds = tuple(float(speed) for speed in speeds)
    if not speeds or len(set(speeds)) != len(speeds) or min(speeds) <= 0:
        raise ValueError(f"speeds must be distinct positive numbers, got {speeds}")
    return speeds


@torch.no_grad()
def whole_video_speediness(
    model,
    processor,
    videos,
    speeds=DEFAULT_SPEEDS,
    task: str | None = None,
    step: int = 1,
    backend: str = "torchcodec",
    batch_size: int = 64,
    progress: bool = True,
) -> dict[float, torch.Tensor]:
    """Mean speediness of each whole video at each speed: ``{speed: (V,)}`` float32 (V = readable videos;
    unreadable ones are left out and logged).

    Each video played at ``speed`` is cut into all its clips (`hfvid.data.sampling.sliding_clips`: a clip starts
    every ``step`` frames, up to the last start where it fits at that speed), and the video's speediness at that
    speed is the mean over them. Nothing is drawn at random and no clips are paired, so the result does not depend on
    a seed or on a pairing protocol; ``speediness_summary(means, clips_per_video=1)`` then tells whether the mean over
    videos rises with the speed and on what share of videos. Clips are processed like `speediness_scores`' (resize,
    centre crop, normalise: the whole video once, then cut). A video's frames are held in memory at the
    evaluation's decoding size (`decode_short_side`) while it is scored.
    """
    task, slow, fast = _task_columns(model, task)
    speeds = _check_speeds(speeds)
    model.eval()
    device = next(model.parameters()).device
    means = []
    for video in tqdm(videos, desc="speediness (whole videos)", disable=not progress):
        try:
            with open_video(video, backend=backend, max_short_side=decode_short_side(processor)) as reader:
                frames = reader.get_frames(np.arange(reader.metadata.num_frames))
        except (VideoDecodeError, IndexError) as error:
            logger.warning("leaving out unreadable video: %s", error)
            continue
        pixels = processor([frames], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"][0]
        per_speed = []
        for speed in speeds:
            indices = torch.from_numpy(sliding_clips(len(pixels), processor.num_frames, speed, step))
            speediness = [
                model.score_transformations(pixels[batch].to(device))[task].float().cpu()
                for batch in indices.split(batch_size)
            ]
            scores = torch.cat(speediness)
            per_speed.append((scores[:, fast] - scores[:, slow]).mean())
        means.append(torch.stack(per_speed))
    if not means:
        raise ValueError("no readable video to score")
    means = torch.stack(means)
    return {speed: means[:, i] for i, speed in enumerate(speeds)}


@torch.no_grad()
def speediness_scores(
    model,
    processor,
    videos,
    speeds=DEFAULT_SPEEDS,
    task: str | None = None,
    clips_per_video: int = 2,
    seed: int = 0,
    backend: str = "torchcodec",
    batch_size: int = 16,
    progress: bool = True,
    same_start: bool = True,
) -> dict[float, torch.Tensor]:
    """Speediness of ``clips_per_video`` clips of every video at every speed: ``{speed: (V * clips_per_video,)}``
    float32, video after video (V = readable videos; unreadable ones are left out and logged).

    ``videos`` are video sources (paths, bytes, ``datasets`` ``{"path", "bytes"}`` dicts, ...); ``processor``
    gives the clip length and the evaluation preprocessing; ``model`` is any model that scores transformations
    (``transformation_tasks`` and ``score_transformations``, as TransRank's pre-training model); ``task`` defaults
    to its task with "1x" and "2x" (see `speediness_task`).

    With ``same_start`` (the default) the clip at each position shows the same moment of the video at every
    speed (one start, where the fastest speed's clip fits; `same_start_clip_indices`), so a pair of speeds
    compares playback speed alone; without it each speed's clips start anywhere, and on real videos, whose own
    motion changes from moment to moment, a pair also compares two moments (docs/learning.md, session 17).
    """
    task, slow, fast = _task_columns(model, task)
    speeds = _check_speeds(speeds)
    if clips_per_video < 1:
        raise ValueError(f"clips_per_video must be >= 1, got {clips_per_video}")

    model.eval()
    device = next(model.parameters()).device
    groups = _clip_groups(videos, processor, speeds, clips_per_video, seed, backend, progress, same_start)
    speediness = []
    for batch in _rebatch(groups, batch_size):
        scores = model.score_transformations(batch.to(device))[task].float().cpu()
        speediness.append(scores[:, fast] - scores[:, slow])
    if not speediness:
        raise ValueError("no readable video to score")
    per_speed = torch.cat(speediness).view(-1, len(speeds), clips_per_video)
    return {speed: per_speed[:, i].reshape(-1) for i, speed in enumerate(speeds)}


def _speed_label(speed: float) -> str:
    return f"{speed:g}x"


def speediness_summary(scores: dict[float, torch.Tensor], clips_per_video: int | None = None) -> dict:
    """Per speed the mean, std (without Bessel's correction) and count; "ordered": whether the means
    strictly increase with the speed; "pair_order": for each pair of consecutive speeds, keyed
    ``"<low>x<<high>x"``, the share of clips whose speediness at ``high`` exceeds that of the clip at the
    same position at ``low`` (same video, as `speediness_scores` lays them out; pairs of unequal length
    are left out): 0.5 is chance, and "1x<2x" is the model's 1x-vs-2x ranking accuracy.

    With ``clips_per_video`` (as passed to `speediness_scores`), also "videos_ordered": the share of videos
    whose own means (over their clips) strictly increase with the speed."""
    speeds = sorted(scores)
    means = {speed: scores[speed].float().mean().item() for speed in speeds}
    summary = {
        "mean": means,
        "std": {speed: scores[speed].float().std(correction=0).item() for speed in speeds},
        "count": {speed: scores[speed].numel() for speed in speeds},
        "ordered": all(means[low] < means[high] for low, high in zip(speeds, speeds[1:])),
        "pair_order": {
            f"{_speed_label(low)}<{_speed_label(high)}": (scores[high] > scores[low]).float().mean().item()
            for low, high in zip(speeds, speeds[1:])
            if scores[low].shape == scores[high].shape
        },
    }
    if clips_per_video is not None:
        per_video = torch.stack([scores[speed].float().view(-1, clips_per_video).mean(1) for speed in speeds])
        summary["videos_ordered"] = (per_video[1:] > per_video[:-1]).all(0).float().mean().item()
    return summary


def plot_speediness(scores_by_model: dict[str, dict[float, torch.Tensor]], path: str | os.PathLike) -> str:
    """One panel per model: box plots of the speediness per speed, the means joined by a line, so an
    ordered model shows a rising line. Returns ``path``."""
    if not scores_by_model:
        raise ValueError("scores_by_model is empty: nothing to plot")
    figure = Figure(figsize=(4 * len(scores_by_model), 3.5))
    for column, (name, scores) in enumerate(scores_by_model.items(), start=1):
        summary = speediness_summary(scores)
        speeds = sorted(scores)
        positions = range(1, len(speeds) + 1)
        axes = figure.add_subplot(1, len(scores_by_model), column)
        axes.boxplot([scores[speed].float().numpy() for speed in speeds], positions=positions, widths=0.6, showfliers=False)
        axes.plot(positions, [summary["mean"][speed] for speed in speeds], marker="o", color="tab:red", label="mean")
        axes.set_xticks(positions, labels=[_speed_label(speed) for speed in speeds])
        axes.set_xlabel("playback speed")
        axes.set_ylabel("speediness = score[2x] - score[1x]")
        axes.set_title(f"{name} ({'ordered' if summary['ordered'] else 'not ordered'})")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper left")
    figure.tight_layout()
    return _save(figure, path)
