"""Clips from an open video, decoded or not, in one pass. Imports only numpy and torch: processors use it, and
processors are copied into saved model folders as remote code."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch


class DecodedVideo:
    """Frames already in memory, behind `VideoReader`'s interface (``metadata.num_frames``, ``get_frames``), so
    that processors treat decoded and encoded videos alike. ``frames``: uint8 T x C x H x W or T x H x W x C."""

    def __init__(self, frames, name: str = "<decoded video>"):
        frames = torch.as_tensor(frames)
        if frames.ndim != 4 or 3 not in (frames.shape[1], frames.shape[-1]):
            raise ValueError(f"a decoded video must be T x C x H x W or T x H x W x C, got {tuple(frames.shape)}")
        self.frames = frames if frames.shape[1] == 3 else frames.permute(0, 3, 1, 2)
        height, width = self.frames.shape[-2:]
        self.metadata = SimpleNamespace(num_frames=len(self.frames), width=width, height=height, source=name)

    def get_frames(self, indices) -> torch.Tensor:
        indices = np.asarray(indices, dtype=np.int64)
        out_of_range = indices[(indices < 0) | (indices >= len(self.frames))]
        if out_of_range.size:
            raise IndexError(
                f"Frame indices {out_of_range[:5].tolist()} out of range for {self.metadata.source} "
                f"({len(self.frames)} frames)"
            )
        return self.frames[torch.from_numpy(indices)]

    def close(self) -> None:
        """Nothing to release (as `VideoReader.close`)."""

    def __enter__(self) -> DecodedVideo:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_frames(video, do_rescale: bool = True):
    """Decoded frames as transformers' processors take them, or a ValueError that names the expected layout.

    - uint8 (T, H, W, 3) or (T, 3, H, W): as they are; (T, H, W) or a single channel: grey, repeated to RGB;
      4 channels (RGBA): the alpha channel dropped.
    - float frames are read like uint8, on a 0-255 scale (as transformers rescales them by 1/255). Frames whose
      values all lie in [0, 1] are ambiguous (already scaled?): an error, unless ``do_rescale=False`` says they
      are. Values outside [0, 255] are an error.
    - 3 dimensions that look like one (C, H, W) frame, or anything not 3-4 dimensional: an error.
    """
    if isinstance(video, (list, tuple)) or not isinstance(video, (torch.Tensor, np.ndarray)):
        return video  # PIL images and other kinds: transformers' own checks
    frames = torch.as_tensor(video)
    if frames.ndim == 3:
        if frames.shape[0] in (1, 3, 4) and frames.shape[-1] not in (1, 3, 4) and min(frames.shape[1:]) > 4:
            raise ValueError(
                f"got one frame of shape {tuple(frames.shape)} (C, H, W), not a video: pass (T, H, W, C) or (T, C, H, W)"
            )
        frames = frames[..., None]  # (T, H, W) grey
    if frames.ndim != 4:
        raise ValueError(f"a video must be (T, H, W, C) or (T, C, H, W) frames, got shape {tuple(frames.shape)}")
    channels_last = frames.shape[-1] in (1, 3, 4) and frames.shape[1] not in (1, 3, 4)
    if channels_last:
        frames = frames.permute(0, 3, 1, 2)
    if frames.shape[1] == 1:
        frames = frames.expand(-1, 3, -1, -1)
    elif frames.shape[1] == 4:
        frames = frames[:, :3]
    elif frames.shape[1] != 3:
        raise ValueError(f"frames need 1, 3 or 4 channels, got shape {tuple(video.shape)}")
    if frames.is_floating_point():
        low, high = float(frames.min()), float(frames.max())
        if low < 0 or high > 255:
            raise ValueError(f"float frames must lie in [0, 255], got values in [{low:g}, {high:g}]")
        if do_rescale and high <= 1:
            raise ValueError(
                "float frames in [0, 1] look already scaled: pass do_rescale=False (or uint8 frames in [0, 255])"
            )
    return frames.contiguous()


def is_decoded(video) -> bool:
    """Frames already in memory: a tensor or array, or a list of PIL images or arrays (one per frame)."""
    if isinstance(video, (torch.Tensor, np.ndarray)):
        return True
    return isinstance(video, (list, tuple)) and bool(video) and all(
        hasattr(frame, "getbands") or isinstance(frame, (np.ndarray, torch.Tensor)) for frame in video
    )


def frames_array(video):
    """Decoded frames (`is_decoded`) as one array: a tensor or array as it is, a list of frames stacked."""
    return np.stack([np.asarray(frame) for frame in video]) if isinstance(video, (list, tuple)) else video


def decoded_video(video, name: str = "<decoded video>") -> DecodedVideo:
    """Decoded frames (`is_decoded`) as a uint8 `DecodedVideo`, following `check_frames`' rules (float frames on a
    0-255 scale are rounded)."""
    frames = check_frames(frames_array(video))
    if frames.is_floating_point():
        frames = frames.round().to(torch.uint8)
    return DecodedVideo(frames, name)


def as_video(video):
    """An open video (`hfvid.data.decoding.VideoReader` or `DecodedVideo`) as is; decoded frames (tensor or array) wrapped in a `DecodedVideo`."""
    if hasattr(video, "get_frames") and hasattr(video, "metadata"):
        return video
    if isinstance(video, (torch.Tensor, np.ndarray)):
        return DecodedVideo(video)
    raise TypeError(f"expected a VideoReader, DecodedVideo or decoded frames, got {type(video).__name__}")


def read_clips(video, indices: list) -> list[torch.Tensor]:
    """The clips at ``indices`` (one index array per clip) of an open video (`as_video`), decoding every needed
    frame once, in one pass: a list of uint8 (len(clip indices), 3, H, W)."""
    video = as_video(video)
    lengths = [len(i) for i in indices]
    frames = video.get_frames(np.concatenate(indices) if indices else np.empty(0, dtype=np.int64))
    return list(frames.split(lengths))


def stack_views(samples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Named views of several videos -> one batch: each name's tensors stacked along a new first dimension."""
    if not samples:
        return {}
    names = list(samples[0])
    for sample in samples[1:]:
        if list(sample) != names:
            raise ValueError(f"every sample needs the same views, got {names} and {list(sample)}")
    return {name: torch.stack([sample[name] for sample in samples]) for name in names}
