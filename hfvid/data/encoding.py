"""Writing frames to real H.264 mp4 files (PyAV bundles FFmpeg with libx264)."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np


def write_mp4(
    path: str | os.PathLike,
    frames: np.ndarray,
    fps: float = 25.0,
    crf: int = 23,
    keyframe_interval: int | None = None,
    preset: str = "veryfast",
) -> str:
    """Encode ``frames`` (uint8, T x H x W x 3, RGB) as an H.264 mp4 at ``path``.

    Height and width must be even (yuv420p). ``keyframe_interval`` sets the GOP size in
    frames; ``None`` keeps x264's default (250). Deterministic for the same input.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 T x H x W x 3, got {frames.dtype} {frames.shape}")
    num_frames, height, width, _ = frames.shape
    if num_frames == 0 or height % 2 or width % 2:
        raise ValueError(f"need at least one frame and even height/width, got {frames.shape}")
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    # mbtree=0: x264's MB-tree rate control gives run-to-run byte differences with its AVX-512 code;
    # without it the same frames always encode to the same bytes.
    options = {"crf": str(crf), "preset": preset, "threads": "1", "x264-params": "mbtree=0"}
    if keyframe_interval is not None:
        options.update({"g": str(keyframe_interval), "keyint_min": str(keyframe_interval), "sc_threshold": "0"})
    with av.open(path, mode="w") as container:
        stream = container.add_stream("libx264", rate=rate, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path
