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
