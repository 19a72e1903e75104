"""Temporal tasks on frozen features: Motion, Sync and Order (after RTT, Jenni et al. 2020).

Each task fits a linear probe (`hfvid.evaluation.probes.linear_probe`) on frozen features of the
train split and reports its top-1 accuracy on the test split, next to the chance level:

- Motion: the type of motion of a video, i.e. a linear probe on the video features with the data
  set's labels (on SynthMotion the labels are the motion).
- Sync: two clips of T frames from one video, the second starting ``offsets[c]`` frames after the
  first (default 0, T/4, T/2, 3T/4: they overlap by T, 3T/4, T/2, T/4 frames); predict ``c``.
- Order: two non-overlapping clips of one video, shown in random order; predict whether the first
  one shown comes first in time (label 1) or not (label 0).

A pair of clips is described by ``concat(f_a, f_b, f_a - f_b)`` (see `pair_feature`): the
difference makes relations between the two clips (which is later, by how much) linearly readable.
The chance level is the accuracy of always predicting the most common test label.

Pairs are sampled by pure functions of frame indices (`sync_pair`, `order_pair`); each video draws
its pairs from its own generator, seeded by ``(seed, video index)``, so the pairs do not depend on
batching or on the number of processes under ``accelerate launch``.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from accelerate import PartialState
from accelerate.utils import gather_object
from tqdm.auto import tqdm

from hfvid.data.decoding import VideoDecodeError, open_video
from hfvid.data.sampling import fit_to_video
from hfvid.evaluation.features import decode_short_side, extract_features, pooled_features, processed_clips
from hfvid.evaluation.probes import linear_probe

logger = logging.getLogger(__name__)

TEMPORAL_TASKS = ("motion", "sync", "order")
PAIR_TASKS = ("sync", "order")
# Short videos: "clamp" freezes the last frame, so a later clip never wraps back to the video's start
# (which "loop" would do, contradicting the order label).
DEFAULT_POLICY = "clamp"


def default_sync_offsets(clip_len: int) -> tuple[int, ...]:
    """Sync offset classes in frames: 0, T/4, T/2, 3T/4 (rounded down) for clips of T >= 4 frames."""
    _check_clip_len(clip_len)
    if clip_len < 4:
        raise ValueError(f"the default sync offsets need clips of at least 4 frames, got {clip_len}; pass offsets")
    return tuple(clip_len * quarter // 4 for quarter in range(4))


def resolve_offsets(offsets: tuple[int, ...] | None, clip_len: int) -> tuple[int, ...]:
    """``offsets`` checked (at least two distinct non-negative frame counts), or the defaults for ``clip_len``."""
    if offsets is None:
        return default_sync_offsets(clip_len)
    checked = tuple(int(offset) for offset in offsets)
    if len(checked) < 2 or len(set(checked)) != len(checked) or min(checked) < 0:
        raise ValueError(f"offsets must be at least two distinct non-negative frame counts, got {offsets}")
    return checked


def sync_pair(
    num_frames: int,
    clip_len: int,
    offset_class: int,
    rng: np.random.Generator,
    offsets: tuple[int, ...] | None = None,
    policy: str = DEFAULT_POLICY,
) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of two clips of ``clip_len`` consecutive frames, the second starting
    ``offsets[offset_class]`` frames after the first.

    The start is uniform over the positions where the pair with the LARGEST offset fits, whatever the
    class, so where the clips lie in the video says nothing about the class. Positions past the end of
    a short video are mapped back by ``fit_to_video(policy)``.
    """
    _check_clip_len(clip_len)
    offsets = resolve_offsets(offsets, clip_len)
    if not 0 <= offset_class < len(offsets):
        raise ValueError(f"offset_class must be in [0, {len(offsets)}), got {offset_class}")
    start = rng.integers(0, max(0, num_frames - clip_len - max(offsets)), endpoint=True)
    first = start + np.arange(clip_len)
    return fit_to_video(first, num_frames, policy), fit_to_video(first + offsets[offset_class], num_frames, policy)


def order_pair(
    num_frames: int, clip_len: int, rng: np.random.Generator, policy: str = DEFAULT_POLICY
) -> tuple[np.ndarray, np.ndarray, int]:
    """Frame indices of two non-overlapping clips of ``clip_len`` consecutive frames, in random order,
    and the label: 1 if the first clip returned comes first in time, else 0.

    The two clips' positions are drawn uniformly (with a random gap between them) among the
    non-overlapping placements in the video. A video shorter than two clips puts them back to back
    from frame 0 and ``fit_to_video(policy)`` maps the positions past its end back into it.
    """
    _check_clip_len(clip_len)
    slack = max(0, num_frames - 2 * clip_len)
    earlier_start, later_start = np.sort(rng.integers(0, slack, endpoint=True, size=2))
    earlier = fit_to_video(earlier_start + np.arange(clip_len), num_frames, policy)
    later = fit_to_video(later_start + clip_len + np.arange(clip_len), num_frames, policy)
    label = int(rng.integers(2))
    return (earlier, later, label) if label else (later, earlier, label)


def sample_pairs(
    task: str,
    num_frames: int,
    clip_len: int,
    pairs_per_video: int,
    rng: np.random.Generator,
    offsets: tuple[int, ...] | None = None,
    policy: str = DEFAULT_POLICY,
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """``pairs_per_video`` (indices_a, indices_b, label) of one video for a pair task ("sync" or "order").

    Sync classes are dealt from a random permutation of the offset classes (cycled when more pairs
    than classes), so that the classes are balanced and a video rarely repeats one.
    """
    if task == "order":
        return [order_pair(num_frames, clip_len, rng, policy) for _ in range(pairs_per_video)]
    if task != "sync":
        raise ValueError(f"unknown pair task {task!r}; expected one of {PAIR_TASKS}")
    offsets = resolve_offsets(offsets, clip_len)
    classes = np.resize(rng.permutation(len(offsets)), pairs_per_video)
    return [(*sync_pair(num_frames, clip_len, int(c), rng, offsets, policy), int(c)) for c in classes]


def pair_feature(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """(P, 3D) descriptor of P clip pairs from their (P, D) features: ``concat(f_a, f_b, f_a - f_b)``."""
    return torch.cat([first, second, first - second], dim=1)


def chance_level(labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most common label."""
    return (torch.bincount(labels).max() / len(labels)).item()


def _pair_clips(
    video, processor, pairs: int, task: str, rng, backend: str, offsets, policy
) -> tuple[torch.Tensor, list[int]]:
    """Model input (2 * pairs, T, C, H, W) of one video's pairs, laid out a0, b0, a1, b1, ..., and their labels.
    One reader per video decodes every frame the pairs need in one call."""
    with open_video(video, backend=backend, max_short_side=decode_short_side(processor)) as reader:
        sampled = sample_pairs(task, reader.metadata.num_frames, processor.num_frames, pairs, rng, offsets, policy)
        frames = reader.get_frames(np.concatenate([indices for a, b, _ in sampled for indices in (a, b)]))
    clips = list(frames.view(2 * pairs, processor.num_frames, *frames.shape[1:]))
    return processed_clips(processor, clips), [label for _, _, label in sampled]


def _embed_pairs(model, clips: torch.Tensor, device) -> torch.Tensor:
    """Pair descriptors (P, 3D) of clips laid out a0, b0, a1, b1, ..."""
    pooled = pooled_features(model, clips.to(device)).float().cpu()
    return pair_feature(pooled[0::2], pooled[1::2])


@torch.no_grad()
def pair_features(
    model,
    processor,
    dataset,
    task: str,
    pairs_per_video: int = 4,
    seed: int = 0,
    video_column: str = "video",
    batch_size: int = 8,
    backend: str = "torchcodec",
    offsets: tuple[int, ...] | None = None,
    policy: str = DEFAULT_POLICY,
    progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pair descriptors (N, 3D) float32 and labels (N,) of ``pairs_per_video`` pairs of every readable
    video of ``dataset`` for ``task`` ("sync" or "order"); ``batch_size`` pairs per model call.

    Video i draws its pairs with ``numpy.random.default_rng([seed, i])``. Unreadable videos are left out
    and logged. Under ``accelerate launch`` each process embeds a share and all get the full result.
    """
    if task not in PAIR_TASKS:
        raise ValueError(f"unknown pair task {task!r}; expected one of {PAIR_TASKS}")
    if pairs_per_video < 1 or batch_size < 1:
        raise ValueError(f"pairs_per_video and batch_size must be positive, got {pairs_per_video}, {batch_size}")
    state = PartialState()
    model.eval()
    device = next(model.parameters()).device
    features, labels = [], []
    pending = torch.empty(0)
    with state.split_between_processes(list(range(len(dataset)))) as indices:
        for index in tqdm(indices, desc=f"{task} pairs", disable=not (progress and state.is_main_process)):
            rng = np.random.default_rng([seed, index])
            try:
                clips, video_labels = _pair_clips(
                    dataset[index][video_column], processor, pairs_per_video, task, rng, backend, offsets, policy
                )
            except VideoDecodeError as error:
                logger.warning("leaving out unreadable video: %s", error)
                continue
            pending = torch.cat([pending, clips]) if len(pending) else clips
            labels.extend(video_labels)
            while len(pending) >= 2 * batch_size:
                features.append(_embed_pairs(model, pending[: 2 * batch_size], device))
                pending = pending[2 * batch_size :]
        if len(pending):
            features.append(_embed_pairs(model, pending, device))
    shares = gather_object([(torch.cat(features) if features else None, labels)])
    features = [share[0] for share in shares if share[0] is not None]
    if not features:
        raise ValueError(f"no readable video in the data set: no {task} pairs")
    labels = torch.tensor([label for share in shares for label in share[1]], dtype=torch.long)
    return torch.cat(features), labels


def motion_accuracy(train_features, train_labels, test_features, test_labels, seed: int = 0) -> dict[str, float]:
    """Motion task on video features already extracted: ``{"motion_top1", "motion_chance"}``."""
    probe = linear_probe(train_features, train_labels, test_features, test_labels, seed=seed)
    return {"motion_top1": probe["linear_top1"], "motion_chance": chance_level(torch.as_tensor(test_labels))}


def temporal_task_accuracy(
    model,
    processor,
    train_dataset,
    test_dataset,
    task: str,
    pairs_per_video: int = 4,
    seed: int = 0,
    num_clips: int = 1,
    video_column: str = "video",
    label_column: str = "label",
    batch_size: int = 8,
    backend: str = "torchcodec",
    offsets: tuple[int, ...] | None = None,
    policy: str = DEFAULT_POLICY,
    cache_dir=None,
    progress: bool = True,
) -> dict[str, float]:
    """``{"<task>_top1": test accuracy of a linear probe fitted on the train split, "<task>_chance": ...}``
    for ``task`` in ``TEMPORAL_TASKS``.

    Motion uses ``extract_features`` (``num_clips`` clips per video, ``cache_dir``); Sync and Order use
    ``pairs_per_video`` pairs per video, drawn with ``seed`` on the train split and ``seed + 1`` on the
    test split (so test videos never replay the draws of the train videos with the same index).
    """
    if task == "motion":
        extract = dict(
            video_column=video_column, label_column=label_column, num_clips=num_clips, batch_size=batch_size,
            backend=backend, cache_dir=cache_dir, progress=progress,
        )  # fmt: skip
        train = extract_features(model, processor, train_dataset, **extract)
        test = extract_features(model, processor, test_dataset, **extract)
        return motion_accuracy(*train, *test, seed=seed)
    if task not in PAIR_TASKS:
        raise ValueError(f"unknown temporal task {task!r}; expected one of {TEMPORAL_TASKS}")
    pairs = dict(
        task=task, pairs_per_video=pairs_per_video, video_column=video_column, batch_size=batch_size,
        backend=backend, offsets=offsets, policy=policy, progress=progress,
    )  # fmt: skip
    train_features, train_labels = pair_features(model, processor, train_dataset, seed=seed, **pairs)
    test_features, test_labels = pair_features(model, processor, test_dataset, seed=seed + 1, **pairs)
    num_classes = 2 if task == "order" else len(resolve_offsets(offsets, processor.num_frames))
    probe = linear_probe(train_features, train_labels, test_features, test_labels, seed=seed, num_classes=num_classes)
    return {f"{task}_top1": probe["linear_top1"], f"{task}_chance": chance_level(test_labels)}


def run_temporal_tasks(
    model, processor, train_dataset, test_dataset, tasks=TEMPORAL_TASKS, **kwargs
) -> dict[str, float]:
    """``{"motion_top1", "motion_chance", "sync_top1", "sync_chance", "order_top1", "order_chance"}`` (for
    the chosen ``tasks``); ``kwargs`` go to `temporal_task_accuracy`."""
    results = {}
    for task in tasks:
        results.update(temporal_task_accuracy(model, processor, train_dataset, test_dataset, task, **kwargs))
    return results


def _check_clip_len(clip_len) -> None:
    if isinstance(clip_len, bool) or not isinstance(clip_len, (int, np.integer)) or clip_len < 1:
        raise ValueError(f"clip_len must be an integer >= 1, got {clip_len!r}")

