"""Frozen features of a video model over a `datasets` split: batched, multi-clip, cached.

``extract_features(model, processor, dataset)`` takes ``num_clips`` uniformly spaced 1x clips of every
video, runs the model without gradients, averages the clips' pooled features, and returns
``(features, labels)``. With ``cache_dir`` the result is stored as safetensors under a key made of
the model's weights, the data and the settings, so evaluating the same model again does not
re-extract. Under ``accelerate launch`` each process extracts a share and all get the full result.
``extract_features_of_models(models, processor, dataset)`` does the same for several models in one pass: each video
is decoded and processed once for all of them.

``FeatureView(model, feature)`` shows every protocol another output of a model than ``pooler_output`` (e.g. LSFD's
``stationary`` part), or several concatenated.

Every protocol also takes transformers' own video models (VideoMAE, V-JEPA 2, TimeSformer, ViViT, ... and what hfvid
pre-trains of them) with their own video processors: `processed_clips` takes the processor's own output name
(``pixel_values`` for VideoMAE), and `pooled_features` feeds a model its own input name and uses its
``pooler_output`` or, where it has none, the mean of its ``last_hidden_state`` tokens.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from accelerate import PartialState
from accelerate.utils import gather_object
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm
from transformers.modeling_outputs import BaseModelOutputWithPooling

from hfvid.data.decoding import VideoDecodeError, open_video
from hfvid.data.sampling import uniform_clips
from hfvid.pipelines.video_feature_extraction import processor_clips, video_model_output

logger = logging.getLogger(__name__)


def clip_indices(num_frames: int, clip_len: int, num_clips: int) -> np.ndarray:
    """(num_clips, clip_len) frame indices of the evaluation clips of a ``num_frames``-frame video."""
    return uniform_clips(num_frames, clip_len, num_clips=num_clips)


def model_fingerprint(model: torch.nn.Module) -> str:
    """A hash of the model's class and weights (and buffers): two models with equal weights share it."""
    digest = hashlib.sha256(type(model).__name__.encode())
    digest.update(repr(getattr(model, "feature_names", "")).encode())  # a FeatureView: which outputs
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def feature_names(model, feature: str) -> tuple[str, ...]:
    """The output fields that ``feature`` names for ``model``: an alias the model declares (``feature_aliases``, e.g.
    LSFD's "both"), or comma-separated field names."""
    aliases = getattr(model, "feature_aliases", {})
    return tuple(aliases.get(feature, [name.strip() for name in feature.split(",") if name.strip()]))


class FeatureView(torch.nn.Module):
    """``model`` with ``pooler_output`` replaced by the outputs that ``feature`` names (`feature_names`), concatenated,
    so that every evaluation protocol scores them. Raises ValueError, listing the model's outputs, for a name it
    does not give."""

    def __init__(self, model: torch.nn.Module, feature: str):
        super().__init__()
        self.model = model
        self.config = model.config
        self.feature_names = feature_names(model, feature)
        if not self.feature_names:
            raise ValueError(f"no feature named in {feature!r}")

    def _features(self, pixel_values_videos: torch.Tensor) -> list[torch.Tensor]:
        output = self.model(pixel_values_videos=pixel_values_videos)
        missing = [name for name in self.feature_names if output.get(name) is None]
        if missing:
            aliases = list(getattr(self.model, "feature_aliases", {}))
            raise ValueError(
                f"{type(self.model).__name__} gives no {', '.join(missing)}: its outputs are {', '.join(output.keys())}"
                + (f" (and the aliases {', '.join(aliases)})" if aliases else "")
            )
        return [output[name] for name in self.feature_names]

    def forward(self, pixel_values_videos: torch.Tensor, **kwargs) -> BaseModelOutputWithPooling:
        """The named outputs, concatenated, as ``pooler_output``; a per-frame output (batch, frames, dim) enters as
        its mean over frames."""
        features = [f.mean(dim=1) if f.ndim == 3 else f for f in self._features(pixel_values_videos)]
        return BaseModelOutputWithPooling(pooler_output=torch.cat(features, dim=-1))

    def frame_features(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        """The named outputs that are per frame (batch, frames, dim), concatenated: what frame-level protocols read."""
        features = self._features(pixel_values_videos)
        if any(f.ndim != 3 or f.shape[1] != pixel_values_videos.shape[1] for f in features):
            raise ValueError(f"{', '.join(self.feature_names)} of {type(self.model).__name__} are not per-frame features")
        return torch.cat(features, dim=-1)


def view_of(model: torch.nn.Module, feature: str = "pooler_output") -> torch.nn.Module:
    """``model`` itself for ``feature="pooler_output"``, else its `FeatureView`."""
    return model if feature == "pooler_output" else FeatureView(model, feature)


def dataset_fingerprint(dataset, video_column: str, label_column: str) -> str:
    """A hash of the data: the split's `datasets` fingerprint, or else the videos' paths."""
    fingerprint = getattr(dataset, "_fingerprint", None)
    if fingerprint is None:
        fingerprint = json.dumps([str(v.get("path")) if isinstance(v, dict) else str(v) for v in dataset[video_column]])
    return hashlib.sha256(f"{fingerprint}|{video_column}|{label_column}".encode()).hexdigest()[:16]


def decode_short_side(processor) -> int | None:
    """The shorter side evaluation decodes frames at, scaled in the decoder: twice the processor's resize target,
    so that memory follows the model's input size, not the video's, and the processor's own antialiased resize
    still does the last step (frames already smaller are left as they are)."""
    shortest_edge = getattr(getattr(processor, "size", None), "shortest_edge", None)
    return 2 * shortest_edge if shortest_edge else None


def processed_clips(processor, clips: list[torch.Tensor]) -> torch.Tensor:
    """Evaluation clips (T, C, H, W) uint8 -> the processor's model input (clips, T, C, H, W), whatever it names it
    (hfvid: ``pixel_values_videos``; transformers' VideoMAE processor: ``pixel_values``)."""
    return processor_clips(processor, processor(clips, do_sample_frames=False, return_tensors="pt"))


def pooled_features(model, clips: torch.Tensor) -> torch.Tensor:
    """(clips, D) features of a batch of clips (clips, T, C, H, W): an hfvid model's ``pooler_output``; a
    transformers video model gets the clips as its ``main_input_name`` and gives its ``pooler_output`` or, without
    one (VideoMAE, V-JEPA 2), the mean of its ``last_hidden_state`` over tokens (VideoMAE's own classifier pools so);
    V-JEPA 2's predictor is skipped."""
    output = video_model_output(model, clips)
    pooled = output.get("pooler_output")
    return pooled if pooled is not None else output["last_hidden_state"].mean(dim=1)


def token_features(model, clips: torch.Tensor) -> torch.Tensor:
    """(clips, tokens, D) frozen tokens of a batch of clips, for the attentive probe: a transformers video model's
    ``last_hidden_state``; an hfvid model's ``last_hidden_state``, a ViT's tokens or a CNN's last feature map
    (clips, D, t, h, w) flattened into t * h * w tokens."""
    tokens = video_model_output(model, clips).get("last_hidden_state")
    if tokens is None:
        raise ValueError(f"{type(model).__name__} gives no last_hidden_state: the attentive probe needs its tokens")
    return tokens.flatten(2).transpose(1, 2) if tokens.ndim == 5 else tokens


def _clips_of(video, processor, num_clips: int, backend: str) -> torch.Tensor:
    """(num_clips, T, C, H, W) model input of one video."""
    with open_video(video, backend=backend, max_short_side=decode_short_side(processor)) as reader:
        indices = clip_indices(reader.metadata.num_frames, processor.num_frames, num_clips)
        frames = reader.get_frames(indices.reshape(-1))
    return processed_clips(processor, list(frames.view(num_clips, processor.num_frames, *frames.shape[1:])))


def extract_features(model, processor, dataset, **settings) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, D) float32 and labels (N,) of the readable videos of ``dataset`` (a map-style
    `datasets.Dataset` whose video column is undecoded, ``datasets.Video(decode=False)``, or decoded).

    ``model`` maps ``pixel_values_videos`` (B, T, C, H, W) to an output with ``pooler_output`` (B, D)
    (every hfvid ``...Model``), or is a transformers video model (`pooled_features`). Unreadable videos are left out
    and logged. ``settings``: `extract_features_of_models`' (``video_column``, ``label_column``, ``num_clips``,
    ``batch_size``, ``backend``, ``cache_dir``, ``progress``, ``tokens``). With ``tokens``, the features are each
    video's frozen tokens (N, num_clips * tokens, D), its clips' `token_features` one after the other (the attentive
    probe's input).
    """
    return extract_features_of_models([model], processor, dataset, **settings)[0]


def _data_key(processor, dataset, video_column, label_column, num_clips, tokens) -> str:
    """The part of a feature cache key that does not depend on the model: the data and the extraction settings."""
    settings = f"{num_clips}|{processor.num_frames}|{json.dumps(processor.to_dict(), sort_keys=True, default=str)}"
    settings += "|tokens" if tokens else ""
    return f"{dataset_fingerprint(dataset, video_column, label_column)}-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


@torch.no_grad()
def extract_features_of_models(
    models,
    processor,
    dataset,
    video_column: str = "video",
    label_column: str = "label",
    num_clips: int = 1,
    batch_size: int = 8,
    backend: str = "torchcodec",
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    tokens: bool = False,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """`extract_features` of several models (a list) that share ``processor``, in one pass over the videos: each
    video is decoded and processed once and its clips go through every model (e.g. a pre-trained network and its
    random init). Returns one (features, labels) pair per model, in order; a model whose features are in
    ``cache_dir`` is not run."""
    found: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(models)
    cache_paths: list[Path | None] = [None] * len(models)
    if cache_dir is not None:
        data_key = _data_key(processor, dataset, video_column, label_column, num_clips, tokens)
        for i, model in enumerate(models):
            cache_paths[i] = Path(cache_dir) / f"features-{model_fingerprint(model)}-{data_key}.safetensors"
            if cache_paths[i].is_file():
                cached = load_file(cache_paths[i])
                found[i] = cached["features"], cached["labels"]
    to_run = [i for i in range(len(models)) if found[i] is None]
    if not to_run:
        return found

    state = PartialState()
    for i in to_run:
        models[i].eval()
    features, labels, skipped = {i: [] for i in to_run}, [], 0
    with state.split_between_processes(list(range(len(dataset)))) as indices:
        bar = tqdm(total=len(indices), desc="extracting features", disable=not (progress and state.is_main_process))
        for start in range(0, len(indices), batch_size):
            batch_clips, batch_labels = [], []
            for index in indices[start : start + batch_size]:
                example = dataset[index]
                try:
                    batch_clips.append(_clips_of(example[video_column], processor, num_clips, backend))
                except (VideoDecodeError, IndexError) as error:
                    skipped += 1
                    logger.warning("leaving out unreadable video: %s", error)
                    continue
                batch_labels.append(int(example[label_column]))
            bar.update(len(indices[start : start + batch_size]))
            if not batch_clips:
                continue
            clips = torch.cat(batch_clips)
            for i in to_run:
                model_clips = clips.to(next(models[i].parameters()).device)
                if tokens:  # (videos * clips, tokens, D) -> (videos, clips * tokens, D)
                    found_tokens = token_features(models[i], model_clips).float().cpu()
                    features[i].append(found_tokens.reshape(len(batch_clips), -1, found_tokens.shape[-1]))
                else:
                    pooled = pooled_features(models[i], model_clips).float().cpu()
                    features[i].append(pooled.view(len(batch_clips), num_clips, -1).mean(dim=1))
            labels.extend(batch_labels)
        bar.close()
    shares = gather_object([({i: torch.cat(features[i]) if features[i] else None for i in to_run}, labels, skipped)])
    if all(share[1] == [] for share in shares):
        raise VideoDecodeError("<dataset>", f"none of its {len(dataset)} videos could be read")
    all_labels = torch.tensor([label for share in shares for label in share[1]], dtype=torch.long)
    num_skipped = sum(share[2] for share in shares)
    if num_skipped:
        logger.warning("%d unreadable videos left out of the features", num_skipped)
    for i in to_run:
        found[i] = torch.cat([share[0][i] for share in shares if share[0][i] is not None]), all_labels
        if cache_paths[i] is not None and state.is_main_process:
            cache_paths[i].parent.mkdir(parents=True, exist_ok=True)
            save_file({"features": found[i][0].contiguous(), "labels": all_labels}, str(cache_paths[i]))
    return found
