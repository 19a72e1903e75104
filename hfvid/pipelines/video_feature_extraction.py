"""The ``video-feature-extraction`` pipeline: videos in, frozen features out, for any video model `AutoModel` loads
(hfvid's models and transformers' own: VideoMAE, V-JEPA 2, TimeSformer, ...).

    from transformers import pipeline
    import hfvid  # registers the task (without hfvid: a saved hfvid folder's copy, with trust_remote_code=True)
    extractor = pipeline("video-feature-extraction", model="outputs/nextframe-r3d18-tiny-synthmotion")
    extractor("video.mp4")                       # [D] floats: the clip's pooled features
    extractor(["a.mp4", "b.mp4"], batch_size=2)  # one list per video, the model called on batches of 2
    extractor(frames, pooling="time")            # [t][D]: one vector per time step of the model's output

Inputs are what the model's video processor takes: paths, bytes, decoded frames (T x C x H x W or T x H x W x C),
`datasets` Video values (hfvid's processors read those, and only the frames they need). Features: the model's
``pooler_output``, or the mean of its ``last_hidden_state`` tokens where it has none (VideoMAE, V-JEPA 2, whose
predictor is skipped); ``pooling="time"`` averages the last feature map (or tokens) over space only.

This module imports only torch and transformers: it is copied into saved hfvid folders as remote code.
"""

from __future__ import annotations

import inspect

import torch
from transformers import Pipeline

TASK = "video-feature-extraction"
POOLINGS = ("clip", "time")
CLIP_KEY = "pixel_values"  # where preprocess keeps the clip; transformers' collation stacks this key


def processor_clips(processor, inputs) -> torch.Tensor:
    """The clips in a video processor's output, whatever it names them (hfvid: ``pixel_values_videos``; transformers'
    VideoMAE processor: ``pixel_values``)."""
    return inputs["pixel_values_videos"] if "pixel_values_videos" in inputs else inputs[processor.model_input_names[0]]


def video_model_output(model, clips: torch.Tensor):
    """A video model's output for clips (batch, T, C, H, W), given under its own input name (``main_input_name``);
    V-JEPA 2's predictor is skipped (only the encoder's tokens are wanted)."""
    extra = {"skip_predictor": True} if "skip_predictor" in inspect.signature(model.forward).parameters else {}
    return model(**{getattr(model, "main_input_name", "pixel_values_videos"): clips}, **extra)


class VideoFeatureExtractionPipeline(Pipeline):
    """Pooled (``pooling="clip"``, default) or per-time-step (``pooling="time"``) features of videos; lists of floats,
    or tensors with ``return_tensors=True``; ``num_frames`` overrides the processor's clip length."""

    _load_processor = False
    _load_image_processor = False
    _load_video_processor = True
    _load_feature_extractor = False
    _load_tokenizer = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.video_processor is None:
            raise ValueError(f"the {TASK} pipeline needs the model's video processor; none was found for {self.model.name_or_path}")
        # transformers' batching (batch_size > 1) collates through a feature extractor; clips stack as they are.
        self.feature_extractor = self.feature_extractor or self.video_processor

    def _sanitize_parameters(self, pooling=None, num_frames=None, return_tensors=None, **kwargs):
        preprocess = {} if num_frames is None else {"num_frames": num_frames}
        postprocess = {}
        if pooling is not None:
            if pooling not in POOLINGS:
                raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
            postprocess["pooling"] = pooling
        if return_tensors is not None:
            postprocess["return_tensors"] = return_tensors
        return preprocess, {}, postprocess

    def preprocess(self, video, num_frames=None):
        settings = {} if num_frames is None else {"num_frames": num_frames}
        clips = processor_clips(self.video_processor, self.video_processor(video, return_tensors="pt", **settings))
        return {CLIP_KEY: clips.to(self.dtype) if self.dtype is not None else clips}

    def _forward(self, model_inputs):
        clips = model_inputs[CLIP_KEY]
        output = video_model_output(self.model, clips)
        hidden = output.get("last_hidden_state")
        pooled = output.get("pooler_output")
        pooled = pooled if pooled is not None else hidden.mean(dim=1)
        return {"pooled": pooled, "time": self._per_time_step(hidden, clips.shape[1])}

    def _per_time_step(self, hidden: torch.Tensor | None, frames: int) -> torch.Tensor | None:
        """(batch, t, D): a feature map (batch, D, t, h, w) averaged over space; tokens (batch, [cls +] t * h * w, D)
        averaged over each time step's tokens (t = frames / the model's tubelet size)."""
        if hidden is None:
            return None
        if hidden.ndim == 5:
            return hidden.mean(dim=(3, 4)).transpose(1, 2)
        config = self.model.config
        backbone = getattr(config, "backbone", None)
        tubelet = getattr(config, "tubelet_size", None) or (backbone or {}).get("tubelet_size", 1)
        steps = max(1, frames // tubelet)
        per_step = hidden.shape[1] // steps
        tokens = hidden[:, hidden.shape[1] - steps * per_step :]  # a leading CLS token is left out
        return tokens.reshape(len(hidden), steps, per_step, hidden.shape[2]).mean(dim=2)

    def postprocess(self, model_outputs, pooling="clip", return_tensors=False):
        features = model_outputs["pooled" if pooling == "clip" else "time"]
        if features is None:
            raise ValueError(f"{type(self.model).__name__} gives no last_hidden_state: no per-time-step features")
        features = features[0].float()
        return features if return_tensors else features.tolist()
