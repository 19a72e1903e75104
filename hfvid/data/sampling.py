"""Frame-index sampling: which source frames make up a clip.

Pure functions of ``(num_frames, clip_len, ...)`` that return ``numpy.int64`` frame indices, so
they are testable without a video. Randomness only comes from an explicit
``numpy.random.Generator`` (same seed, same indices).

- ``fit_to_video(indices, num_frames, policy)``: map positions past the last frame back into
  the video (``SHORT_VIDEO_POLICIES``: "loop" wraps around, "clamp" repeats the last frame).
- ``uniform_clips(num_frames, clip_len, num_clips, stride)``: evaluation clips, starts evenly spread.
- ``random_clip`` / ``random_clips``: training clips at a random start (one / several per video).
- ``nearby_clips(num_frames, clip_len, num_clips, rng, gap_distribution)``: contrastive views of one
  video whose start gaps are drawn from CVRL's decreasing distribution (or a uniform one).
- ``temporal_transformation_clip(name, num_frames, clip_len, rng)``: a clip carrying one of
  ``TEMPORAL_TRANSFORMATIONS`` or any "<speed>x" (TransRank, RTT, SpeedNet, Pace);
  ``transformation_speed(name)``, ``is_temporal_transformation(name)``.

Conventions: ``stride`` is the playback speed in source frames per output frame; with ``fps``
and ``target_fps`` it is multiplied by ``fps / target_fps`` (the video is resampled to
``target_fps`` first). Clip positions are ``start + floor(arange(clip_len) * stride)``; floor
(not round) makes stride 0.5 repeat every frame exactly twice.
"""

from __future__ import annotations

import re

import numpy as np

SHORT_VIDEO_POLICIES = ("loop", "clamp")
TEMPORAL_TRANSFORMATIONS = ("1x", "2x", "4x", "8x", "0.5x", "reverse", "palindrome", "shuffle", "warp")
_SPEEDS = {"reverse": 1.0, "palindrome": 1.0, "shuffle": 1.0}
# Any "<speed>x" is a speed transformation (e.g. Pace's "3x"); TEMPORAL_TRANSFORMATIONS lists the usual ones.
_SPEED_NAME = re.compile(r"^(\d+(\.\d+)?)x$")
# Guards floor() against products such as 3 * (1 / 3) * 3 landing just below an integer.
_FLOOR_EPSILON = 1e-6


def fit_to_video(indices, num_frames: int, policy: str = "loop") -> np.ndarray:
    """Map frame positions into ``[0, num_frames)``, so short videos never raise an IndexError.

    "loop" takes positions modulo ``num_frames`` (the video repeats from its start);
    "clamp" replaces positions past the end by the last frame (the video freezes).
    Negative positions are invalid input and raise ``ValueError``.
    """
    _check_positive_int("num_frames", num_frames)
    if policy not in SHORT_VIDEO_POLICIES:
        raise ValueError(f"unknown short-video policy {policy!r}; valid: {SHORT_VIDEO_POLICIES}")
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and indices.min() < 0:
        raise ValueError(f"frame positions must be >= 0, got {indices.min()}")
    if policy == "loop":
        return indices % num_frames
    return np.minimum(indices, num_frames - 1)


def uniform_clips(
    num_frames: int,
    clip_len: int,
    num_clips: int = 1,
    stride: float = 1.0,
    *,
    fps: float | None = None,
    target_fps: float | None = None,
    policy: str = "loop",
) -> np.ndarray:
    """Deterministic evaluation clips, shape ``(num_clips, clip_len)``.

    Starts are evenly spread from the first to the last possible start (a single clip is
    centred), the usual multi-view test protocol. If a clip is longer than the video, every
    clip starts at frame 0 and ``policy`` fits it into the video.
    """
    _check_positive_int("num_clips", num_clips)
    stride = _base_stride(stride, fps, target_fps)
    offsets = _clip_offsets(clip_len, stride)
    max_start = _max_start(num_frames, offsets)
    if num_clips == 1:
        starts = np.array([max_start // 2])
    else:
        starts = np.floor(np.linspace(0, max_start, num_clips) + 0.5).astype(np.int64)
    return fit_to_video(starts[:, None] + offsets[None, :], num_frames, policy)


def clip_at(start: int, num_frames: int, clip_len: int, stride: float = 1.0, *, policy: str = "loop") -> np.ndarray:
    """One clip, shape ``(clip_len,)``, from frame ``start`` at frame stride ``stride`` (0.5 shows every frame
    twice, 2 every other frame); ``policy`` fits positions past the end into the video (see `fit_to_video`)."""
    return fit_to_video(int(start) + _clip_offsets(clip_len, stride), num_frames, policy)


def sliding_clips(num_frames: int, clip_len: int, stride: float = 1.0, step: int = 1, *, policy: str = "loop") -> np.ndarray:
    """Every clip of a video, shape ``(num_clips, clip_len)``: starts 0, ``step``, 2 * ``step``, ... up to the last
    start where the whole clip fits at frame stride ``stride`` (`clip_at`). A video too short for one clip gives
    one clip from frame 0, fitted into the video by ``policy``."""
    _check_positive_int("step", step)
    offsets = _clip_offsets(clip_len, stride)
    starts = np.arange(0, _max_start(num_frames, offsets) + 1, step)
    return fit_to_video(starts[:, None] + offsets[None, :], num_frames, policy)


def random_clip(
    num_frames: int,
    clip_len: int,
    rng: np.random.Generator,
    stride: float = 1.0,
    *,
    fps: float | None = None,
    target_fps: float | None = None,
    policy: str = "loop",
) -> np.ndarray:
    """One training clip, shape ``(clip_len,)``, at a uniformly random start where it fits."""
    return random_clips(num_frames, clip_len, 1, rng, stride, fps=fps, target_fps=target_fps, policy=policy)[0]


def random_clips(
    num_frames: int,
    clip_len: int,
    num_clips: int,
    rng: np.random.Generator,
    stride: float = 1.0,
    *,
    fps: float | None = None,
    target_fps: float | None = None,
    policy: str = "loop",
) -> np.ndarray:
    """Several clips of one video, shape ``(num_clips, clip_len)``, with independent random starts."""
    _check_positive_int("num_clips", num_clips)
    stride = _base_stride(stride, fps, target_fps)
    offsets = _clip_offsets(clip_len, stride)
    starts = rng.integers(0, _max_start(num_frames, offsets), endpoint=True, size=num_clips)
    return fit_to_video(starts[:, None] + offsets[None, :], num_frames, policy)


GAP_DISTRIBUTIONS = ("decreasing", "uniform")


def nearby_clips(
    num_frames: int,
    clip_len: int,
    num_clips: int,
    rng: np.random.Generator,
    gap_distribution: str = "decreasing",
    stride: float = 1.0,
    *,
    policy: str = "loop",
) -> np.ndarray:
    """Several clips of one video, shape ``(num_clips, clip_len)``, for contrastive views.

    The gap between consecutive clip starts is drawn on [0, L], L the largest gap that keeps every clip
    inside the video, from CVRL's distributions: "decreasing", P(gap) proportional to (L - gap), so nearby
    clips are likelier than distant ones (the one CVRL found best; for two clips it is the gap of two
    independent uniform starts), or "uniform", every gap equally likely. The clips come out in random order.
    """
    if gap_distribution not in GAP_DISTRIBUTIONS:
        raise ValueError(f"unknown gap_distribution {gap_distribution!r}; valid: {GAP_DISTRIBUTIONS}")
    _check_positive_int("num_clips", num_clips)
    offsets = _clip_offsets(clip_len, stride)
    max_start = _max_start(num_frames, offsets)
    max_gap = max_start / max(num_clips - 1, 1)
    if gap_distribution == "decreasing" and max_gap > 0:
        gaps = rng.triangular(0, 0, max_gap, size=num_clips - 1)
    else:
        gaps = rng.uniform(0, max_gap, size=num_clips - 1)
    relative = np.concatenate([[0], np.cumsum(np.floor(gaps))]).astype(np.int64)
    starts = rng.permutation(relative + rng.integers(0, max_start - relative[-1], endpoint=True))
    return fit_to_video(starts[:, None] + offsets[None, :], num_frames, policy)


def transformation_speed(name: str) -> float | None:
    """Nominal playback speed of a temporal transformation (``None`` for "warp", whose speed varies)."""
    _check_transformation(name)
    speed = _SPEED_NAME.match(name)
    return float(speed.group(1)) if speed else _SPEEDS.get(name)


def temporal_transformation_clip(
    name: str,
    num_frames: int,
    clip_len: int,
    rng: np.random.Generator,
    *,
    speed_jitter: tuple[float, float] | None = (0.8, 1.2),
    fps: float | None = None,
    target_fps: float | None = None,
    policy: str = "loop",
    warp_max_speed: float = 8.0,
) -> np.ndarray:
    """Frame indices, shape ``(clip_len,)``, of a clip that carries temporal transformation ``name``.

    - "Nx": played at N times the base speed (N = 0.5 repeats frames: slow motion).
    - "reverse": a 1x clip played backwards.
    - "palindrome": forward for the first half, then the same frames backwards (symmetric).
    - "shuffle": a 1x clip whose frames are randomly permuted (never left in order).
    - "warp": RTT-style random skips; ``clip_len`` sorted distinct positions inside a window of
      ``clip_len * warp_max_speed`` frames, so the speed changes within the clip.

    Every clip except "warp" has its speed multiplied by a factor drawn uniformly from
    ``speed_jitter`` (TransRank; ``None`` disables it). The start is random where the whole
    clip fits into the video, else 0 with the short-video ``policy``.
    """
    _check_transformation(name)
    base_stride = _base_stride(1.0, fps, target_fps)
    if name == "warp":
        return _warp_clip(num_frames, clip_len, rng, base_stride * warp_max_speed, policy)
    stride = base_stride * transformation_speed(name) * _jitter_factor(speed_jitter, rng)
    if name == "palindrome":
        forward = random_clip(num_frames, (clip_len + 1) // 2, rng, stride, policy=policy)
        return np.concatenate([forward, forward[::-1][clip_len % 2 :]])
    clip = random_clip(num_frames, clip_len, rng, stride, policy=policy)
    if name == "reverse":
        return clip[::-1].copy()
    if name == "shuffle":
        return _shuffled(clip, rng)
    return clip


def _warp_clip(num_frames: int, clip_len: int, rng: np.random.Generator, max_stride: float, policy: str) -> np.ndarray:
    """Sorted distinct positions in a random window of ``clip_len * max_stride`` frames (shrunk
    to the video, never below ``clip_len``); redrawn while the steps are all equal, if they can vary."""
    _check_positive_int("clip_len", clip_len)
    _check_positive_int("num_frames", num_frames)
    window = max(clip_len, min(num_frames, int(np.floor(clip_len * max_stride + _FLOOR_EPSILON))))
    start = rng.integers(0, max(0, num_frames - window), endpoint=True)
    can_vary = clip_len >= 3 and window > clip_len
    while True:
        positions = np.sort(rng.choice(window, size=clip_len, replace=False))
        if not can_vary or len(np.unique(np.diff(positions))) > 1:
            return fit_to_video(start + positions, num_frames, policy)


def _shuffled(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``clip`` that differs from ``clip`` whenever that is possible."""
    if len(np.unique(clip)) < 2:
        return clip.copy()
    while True:
        shuffled = rng.permutation(clip)
        if not np.array_equal(shuffled, clip):
            return shuffled


def _jitter_factor(speed_jitter: tuple[float, float] | None, rng: np.random.Generator) -> float:
    """A speed factor drawn uniformly from ``speed_jitter`` (1 when jitter is off)."""
    if speed_jitter is None:
        return 1.0
    low, high = speed_jitter
    if not 0 < low <= high:
        raise ValueError(f"speed_jitter must be (low, high) with 0 < low <= high, got {speed_jitter}")
    return float(rng.uniform(low, high))


def _base_stride(stride: float, fps: float | None, target_fps: float | None) -> float:
    """``stride`` in source frames, after resampling the video from ``fps`` to ``target_fps``."""
    if not stride > 0:
        raise ValueError(f"stride must be > 0, got {stride}")
    if target_fps is None:
        return float(stride)
    if fps is None:
        raise ValueError("target_fps needs the video's fps")
    if not (fps > 0 and target_fps > 0):
        raise ValueError(f"fps and target_fps must be > 0, got {fps} and {target_fps}")
    return float(stride) * fps / target_fps


def _clip_offsets(clip_len: int, stride: float) -> np.ndarray:
    """Frame offsets from the clip start: ``floor(arange(clip_len) * stride)``."""
    _check_positive_int("clip_len", clip_len)
    return np.floor(np.arange(clip_len) * stride + _FLOOR_EPSILON).astype(np.int64)


def _max_start(num_frames: int, offsets: np.ndarray) -> int:
    """Last start at which the whole clip fits into the video (0 if it never fits)."""
    _check_positive_int("num_frames", num_frames)
    return max(0, num_frames - 1 - int(offsets[-1]))


def is_temporal_transformation(name: str) -> bool:
    """Whether ``name`` is one of ``TEMPORAL_TRANSFORMATIONS`` or any positive "<speed>x"."""
    speed = _SPEED_NAME.match(name)
    return name in TEMPORAL_TRANSFORMATIONS or (speed is not None and float(speed.group(1)) > 0)


def _check_transformation(name: str) -> None:
    if not is_temporal_transformation(name):
        raise ValueError(
            f"unknown temporal transformation {name!r}; valid: {TEMPORAL_TRANSFORMATIONS} or any '<speed>x'"
        )


def _check_positive_int(label: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{label} must be an integer >= 1, got {value!r}")
