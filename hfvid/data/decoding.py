"""Frame-accurate clip decoding from any video source, with torchcodec (default) or PyAV.

``VideoReader(source, backend)`` opens a video once and serves ``get_frames(indices)`` for many clips;
``read_frames`` / ``read_metadata`` are one-shot helpers. Sources: paths, bytes, binary files, ``datasets``
Video values. Frames are uint8 RGB (T, 3, H, W); unreadable input raises ``VideoDecodeError``.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter
from torchvision.transforms.v2.functional import resize as resize_image

from hfvid.data.frames import decoded_video, is_decoded

try:  # torchcodec loads the system's FFmpeg libraries when imported: without them, hfvid still imports (PyAV works)
    from torchcodec import transforms as decoder_transforms
    from torchcodec.decoders import VideoDecoder

    TORCHCODEC_ERROR: Exception | None = None
except (ImportError, OSError, RuntimeError) as error:
    TORCHCODEC_ERROR = error

    class VideoDecoder:
        """Stands in for torchcodec's decoder class where torchcodec cannot load: nothing is an instance of it."""


BACKENDS = ("torchcodec", "pyav")


def check_backend(backend: str) -> None:
    """Refuse an unknown backend, and torchcodec where it cannot load, with the fix in words (not per video: a
    missing FFmpeg is not an unreadable video)."""
    if backend not in BACKENDS:
        raise ValueError(f"Unknown video backend {backend!r}; expected one of {BACKENDS}")
    if backend == "torchcodec" and TORCHCODEC_ERROR is not None:
        raise RuntimeError(
            f"The torchcodec video backend cannot load here ({type(TORCHCODEC_ERROR).__name__}: "
            f"{str(TORCHCODEC_ERROR).strip().splitlines()[0]}). Install FFmpeg's libraries (Debian/Ubuntu: "
            "apt install ffmpeg), or decode with PyAV: backend='pyav' (--decode_backend pyav)."
        )


# PyAV >= 17 converts frames with several threads unless told otherwise (`reformat(threads=...)`).
_REFORMAT_TAKES_THREADS = int(av.__version__.split(".")[0]) >= 17

# Single-frame streams of these codecs are pictures (FFmpeg opens a .png as a 1-frame "video").
_STILL_IMAGE_CODECS = frozenset({"png", "mjpeg", "bmp", "tiff", "webp", "gif", "jpeg2000", "qoi"})


class VideoDecodeError(ValueError):
    """Raised for any unreadable video; the message names the source and the reason."""

    source: str
    reason: str

    def __init__(self, source: str, reason: str):
        super().__init__(f"Cannot decode video {source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class VideoMetadata:
    """What the decoder found in the video stream (exact frame count, from the packets)."""

    num_frames: int
    fps: float
    duration: float
    width: int
    height: int
    codec: str | None
    source: str


def _resolve_source(source, backend: str) -> tuple[str | bytes | io.IOBase | VideoDecoder, str]:
    """Turn ``source`` into something the backend opens (path, bytes, seekable file, torchcodec decoder)
    and a name for error messages."""
    if isinstance(source, VideoDecoder):
        # `datasets.Video()` values: torchcodec reuses the open decoder; PyAV needs the encoded video,
        # which datasets keeps on the decoder as `_hf_encoded = {"path": ..., "bytes": ...}`.
        encoded = getattr(source, "_hf_encoded", None)
        if backend == "torchcodec":
            return source, "<VideoDecoder>" if encoded is None else encoded["path"] or "<bytes>"
        if encoded is None:
            raise VideoDecodeError(
                "<VideoDecoder>",
                "the pyav backend needs the encoded video, which only datasets' VideoDecoder values keep; "
                "use backend='torchcodec' or pass the path/bytes",
            )
        source = encoded
    if isinstance(source, dict):  # `datasets.Video(decode=False)` values
        path, data = source.get("path"), source.get("bytes")
        if data is not None:
            return bytes(data), os.fspath(path) if path is not None else "<bytes>"
        if path is None:
            raise VideoDecodeError("<dict>", "both 'path' and 'bytes' are None")
        source = path
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return path, path
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else "<file-like>"
        # Both decoders seek in the file; a stream that cannot seek is read into memory.
        seekable = hasattr(source, "seek") and getattr(source, "seekable", lambda: True)()
        return (source if seekable else source.read()), name
    raise TypeError(
        f"Unsupported video source type {type(source).__name__}: expected a path, bytes, a binary "
        "file-like object or a datasets Video value"
    )


def _is_empty(source) -> bool:
    """A 0-byte file or buffer (FFmpeg would only say "Invalid data found")."""
    if isinstance(source, str):
        return os.path.isfile(source) and os.path.getsize(source) == 0
    return isinstance(source, bytes) and not source


def _torchcodec_reason(message: str) -> str:
    """Readable reason from a torchcodec error: drop the C++ location and the "report an issue" text."""
    message = re.sub(r"^.*\.cpp:\d+, ", "", message.strip().split("\n")[0])
    if "best video stream is unknown" in message:
        return "no decodable video stream (audio-only, or a video codec FFmpeg cannot decode)"
    if message.startswith("Could not seek file to pts=0"):  # torchcodec's scan of a stream without any frame
        return "the video stream has no frames"
    return message


@contextmanager
def _decoder_errors(source: str):
    """Re-raise any torchcodec / PyAV failure as a ``VideoDecodeError`` naming ``source``."""
    try:
        yield
    except VideoDecodeError:
        raise
    except av.FFmpegError as error:
        raise VideoDecodeError(source, error.strerror or str(error)) from error
    except (RuntimeError, ValueError, OSError, EOFError) as error:
        raise VideoDecodeError(source, _torchcodec_reason(str(error))) from error


def scaled_size(width: int, height: int, max_short_side: int | None) -> tuple[int, int]:
    """(width, height) scaled so that the shorter side is at most ``max_short_side`` (even sizes, aspect kept);
    unchanged when already small enough or without a limit."""
    if not max_short_side or min(width, height) <= max_short_side:
        return width, height
    scale = max_short_side / min(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


class _TorchcodecDecoder:
    """torchcodec in exact seek mode: one scan of the packets gives the exact frame count and index. With
    ``max_short_side`` a header probe gives the size and FFmpeg scales each frame as it is decoded."""

    def __init__(self, source, name: str, num_threads: int, max_short_side: int | None = None):
        transforms = None
        if max_short_side and not isinstance(source, VideoDecoder):
            width, height = probe_size(source)
            size = scaled_size(width, height, max_short_side)
            if size != (width, height):
                transforms = [decoder_transforms.Resize(size=(size[1], size[0]))]
        if isinstance(source, VideoDecoder):
            self._decoder = source
        else:
            self._decoder = VideoDecoder(source, seek_mode="exact", num_ffmpeg_threads=num_threads, transforms=transforms)
        stream = self._decoder.metadata
        # More packets in the header than frames in the content: an edit list discards some (a file cut with
        # `ffmpeg -ss X -c copy`), and torchcodec 0.14 then seeks to wrong frames without an error.
        counts = (stream.num_frames_from_header, stream.num_frames_from_content)
        self.seeks_wrong = None not in counts and counts[0] != counts[1]
        width, height = (size if transforms else (stream.width, stream.height))
        self.metadata = VideoMetadata(
            num_frames=stream.num_frames,
            fps=float(stream.average_fps),
            duration=float(stream.duration_seconds),
            width=width,
            height=height,
            codec=stream.codec,
            source=name,
        )

    def decode(self, indices: list[int]) -> torch.Tensor:
        # torchcodec takes any order and repeats: it decodes each distinct frame once, in stream order, straight
        # into its output slot, and copies repeats (no separate gather of the whole clip afterwards).
        frames = self._decoder.get_frames_at(indices).data
        if tuple(frames.shape[1:]) == (self.metadata.height, self.metadata.width, 3):
            frames = frames.permute(0, 3, 1, 2)  # a datasets Video(dimension_order="NHWC") decoder
        return frames

    def close(self):
        self._decoder = None  # a decoder handed in by the caller stays usable


class _PyAVDecoder:
    """PyAV: scan the packets once for the presentation timestamps and keyframes (exact frame count, like
    torchcodec's exact mode), then serve frames by seeking to the keyframe before the ones needed, or by
    decoding on from where the decoder stands when no keyframe lies in between (as torchcodec does)."""

    def __init__(self, source, name: str, num_threads: int, max_short_side: int | None = None):
        self._name = name
        self._source = source
        self._max_short_side = max_short_side
        self._frames, self._position = None, None  # the live frame iterator and the pts of its last frame
        self._container = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        try:
            self._stream = self._container.streams.best("video")
            if self._stream is None:
                kinds = sorted({stream.type for stream in self._container.streams}) or ["no streams"]
                raise VideoDecodeError(name, f"no video stream (found: {', '.join(kinds)})")
            if self._stream.codec_context is None:
                raise VideoDecodeError(name, "no decoder for its video codec in this FFmpeg build")
            self._stream.codec_context.thread_count = num_threads
            self._stream.codec_context.thread_type = "AUTO"
            # One reformatter for all frames keeps its swscale context (`frame.to_ndarray(format=...)` builds a
            # new one per frame), with as many threads as the decoder; same pixels.
            self._reformatter = VideoReformatter()
            self._reformat_options = {"format": "rgb24", **({"threads": num_threads} if _REFORMAT_TAKES_THREADS else {})}
            self.metadata = self._scan()
        except BaseException:
            self._container.close()
            raise

    def _scan(self) -> VideoMetadata:
        """Read every packet (no decoding) for the frame timestamps, then decode the first frame: it
        validates the codec and carries the display rotation, which PyAV exposes only on frames."""
        packets = sorted(
            (packet.pts, packet.duration or 0, packet.is_keyframe, packet.is_discard)
            for packet in self._container.demux(self._stream)
            if packet.size and packet.pts is not None
        )
        # Keyframes of discarded packets (before an edit list's start, as `ffmpeg -ss X -c copy` writes) still
        # start decoding; their frames are never output, so they are not frames of the video.
        self._keyframe_pts = [pts for pts, _, is_keyframe, _ in packets if is_keyframe]
        packets = [(pts, length, is_keyframe) for pts, length, is_keyframe, discard in packets if not discard]
        self._pts = [pts for pts, _, _ in packets]
        self._rotation, duration = 0, 0.0
        width, height = self._stream.width, self._stream.height
        if packets:
            # The decoder stays just past frame 0: a first clip in the first GOP decodes on from there.
            try:
                first = next(self._frames_at(self._pts[:1]))
            except VideoDecodeError:  # a container that seeks imprecisely: from the start
                self._frames = None
                first = next(self._frames_from_start(self._pts[:1]))
            self._rotation = first.rotation % 360
            if self._rotation % 180:
                width, height = height, width
            # The last frame's end, as torchcodec reads it: its pts plus its own duration (other packets' durations
            # can be far off in variable-frame-rate files with B-frames).
            last_pts, last_length, _ = packets[-1]
            end = last_pts + last_length
            duration = float((end - self._pts[0]) * self._stream.time_base)
        fps = len(packets) / duration if duration > 0 else float(self._stream.average_rate or 0)
        codec = self._stream.codec_context.codec.canonical_name
        # With a size limit each frame is scaled right after its RGB conversion, one frame at a time, with the bilinear
        # antialiased resize torchcodec's decoder applies (swscale's own scaling differs by ~10 levels on average).
        # Sizes before the display rotation.
        self._scaled = scaled_size(self._stream.width, self._stream.height, self._max_short_side)
        if self._scaled != (self._stream.width, self._stream.height):
            width, height = (self._scaled[1], self._scaled[0]) if self._rotation % 180 else self._scaled
        else:
            self._scaled = None
        return VideoMetadata(len(packets), fps, duration, width, height, codec, self._name)

    def _frames_at(self, wanted_pts: list[int]):
        """Yield the frames with these sorted, distinct timestamps. Before each, seek to the keyframe before it
        unless the decoder already stands past that keyframe (and before the frame): then decoding on is the
        shorter way, so a clip that crosses a keyframe, or several clips in one GOP, cost no seek."""
        for count, target in enumerate(wanted_pts):
            before = bisect.bisect_right(self._keyframe_pts, target)
            keyframe = self._keyframe_pts[before - 1] if before else -math.inf
            if self._frames is None or self._position is None or not keyframe <= self._position < target:
                self._container.seek(target, stream=self._stream, backward=True)
                self._frames, self._position = self._container.decode(self._stream), None
                seeked = True
            else:
                seeked = False
            for frame in self._frames:
                if frame.pts is None:
                    continue
                self._position = frame.pts
                if frame.pts == target:
                    yield frame
                    break
                if frame.pts > target:
                    reason = (
                        f"seeking skipped the frame at pts {target}"
                        if seeked
                        else f"no frame at pts {target} (corrupt stream)"
                    )
                    raise VideoDecodeError(self._name, reason)
            else:
                self._frames = None
                reason = f"got {count} of {len(wanted_pts)} requested frames (truncated or corrupt stream)"
                raise VideoDecodeError(self._name, reason)

    def _frames_from_start(self, wanted_pts: list[int]):
        """Yield the frames with these sorted, distinct timestamps by decoding the video from its start in a fresh
        demuxer, without seeking: slow, but right where seeking is not (MPEG-TS, AVI with B-frames, edit lists)."""
        source = self._source
        if hasattr(source, "seek"):
            source.seek(0)
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        try:
            wanted = iter(wanted_pts)
            target = next(wanted, None)
            for frame in container.decode(container.streams.best("video")):
                if target is None:
                    return
                if frame.pts is None or frame.pts < target:
                    continue
                if frame.pts > target:
                    raise VideoDecodeError(self._name, f"no frame at pts {target} (corrupt stream)")
                yield frame
                target = next(wanted, None)
            if target is not None:
                raise VideoDecodeError(self._name, "the stream ends before the requested frames (truncated or corrupt)")
        finally:
            container.close()

    def decode(self, indices: list[int]) -> torch.Tensor:
        """Decode each distinct frame once, in stream order, converting it to RGB straight into its slot(s) of
        one preallocated (T, H, W, 3) array; returned as a (T, 3, H, W) view of it, as torchcodec does. Where seeking
        does not deliver the frames (some containers seek imprecisely), decode from the start instead."""
        try:
            return self._decode(indices, self._frames_at)
        except VideoDecodeError:
            self._frames = None
            return self._decode(indices, self._frames_from_start)

    def _decode(self, indices: list[int], frames_at) -> torch.Tensor:
        distinct, positions = np.unique(indices, return_inverse=True)
        order = np.argsort(positions, kind="stable")  # output slots grouped by distinct frame
        bounds = np.searchsorted(positions[order], np.arange(len(distinct) + 1))
        out = None
        try:
            for k, frame in enumerate(frames_at([self._pts[index] for index in distinct.tolist()])):
                rgb = self._reformatter.reformat(frame, **self._reformat_options).to_ndarray()
                if self._scaled is not None:
                    size = [self._scaled[1], self._scaled[0]]
                    rgb = resize_image(torch.from_numpy(rgb).permute(2, 0, 1), size, antialias=True).permute(1, 2, 0).numpy()
                if out is None:
                    out = np.empty((len(indices), *rgb.shape), dtype=np.uint8)
                out[order[bounds[k] : bounds[k + 1]]] = rgb
        except BaseException:
            self._frames = None  # a half-consumed iterator: seek next time
            raise
        frames = torch.from_numpy(out).permute(0, 3, 1, 2)
        if self._rotation:
            frames = torch.rot90(frames, k=self._rotation // 90, dims=(2, 3))
            frames = frames.contiguous(memory_format=torch.channels_last)
        return frames

    def close(self):
        self._frames = None
        self._container.close()


class VideoReader:
    """Opens a video once (one demuxer/decoder) and serves several clips from it.

    Args:
        source: a path, encoded bytes, a binary file-like object, or a ``datasets.Video`` value (the
            torchcodec ``VideoDecoder`` of ``Video()``, or the ``{"path", "bytes"}`` dict of
            ``Video(decode=False)``).
        backend: one of ``BACKENDS``; both return the same frames.
        num_threads: FFmpeg decoding threads (a ``VideoDecoder`` source keeps its own setting).
        max_short_side: if set, frames come out scaled (in the decoder, by FFmpeg) so that their shorter side is at
            most this, aspect kept: memory then follows the output size, not the video's (a 4000 x 3000 upload).
            ``metadata.width`` / ``height`` are the sizes returned. A ``VideoDecoder`` source is not scaled.

    ``name`` is how errors name the source (its path, ``<bytes>`` or ``<file-like>``).
    """

    def __init__(self, source, backend: str = "torchcodec", num_threads: int = 1, max_short_side: int | None = None):
        check_backend(backend)
        source, name = _resolve_source(source, backend)
        self.name = name  # how errors name the source: its path, or "<bytes>", "<file-like>"
        if _is_empty(source):
            raise VideoDecodeError(name, "empty input (0 bytes)")
        decoder_class = _TorchcodecDecoder if backend == "torchcodec" else _PyAVDecoder
        self._reopen = (source, name, num_threads, max_short_side)  # for `_open_pyav`
        with _decoder_errors(name):
            self._decoder = decoder_class(source, name, num_threads, max_short_side)
            if getattr(self._decoder, "seeks_wrong", False) and not isinstance(source, VideoDecoder):
                self._decoder.close()
                self._decoder = self._open_pyav()
        self.metadata: VideoMetadata = self._decoder.metadata
        if self.metadata.num_frames == 0:
            self.close()
            raise VideoDecodeError(name, "the video stream has no frames")
        if self.metadata.num_frames == 1 and self.metadata.codec in _STILL_IMAGE_CODECS:
            self.close()
            raise VideoDecodeError(name, f"a still image ({self.metadata.codec}), not a video")

    def get_frames(self, indices) -> torch.Tensor:
        """Frames at ``indices`` (any order, repeats allowed) as uint8 (len(indices), 3, H, W) RGB.

        Each distinct frame is decoded once, in stream order, and converted to RGB straight into its place(s)
        in the output. The result may be a non-contiguous view: channels-last strides, as torchcodec returns
        frames (call ``.contiguous()`` where a contiguous tensor is needed).
        """
        indices = np.asarray(indices)
        if indices.size == 0:
            return torch.empty((0, 3, self.metadata.height, self.metadata.width), dtype=torch.uint8)
        if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"indices must be a 1-D sequence of ints, got {indices.dtype} {indices.shape}")
        num_frames = self.metadata.num_frames
        out_of_range = indices[(indices < 0) | (indices >= num_frames)]
        if out_of_range.size:
            raise IndexError(
                f"Frame indices {out_of_range[:5].tolist()} out of range for video {self.metadata.source}: "
                f"valid range is [0, {num_frames - 1}] ({num_frames} frames)"
            )
        try:
            with _decoder_errors(self.metadata.source):
                return self._decoder.decode(indices.tolist())
        except VideoDecodeError:
            # torchcodec fails on the last frames of some valid videos (MPEG-TS, AVI with B-frames); PyAV, which
            # decodes from the start where seeking misses, reads them frame-exact. A VideoDecoder source is not
            # reopened (its encoded bytes may be gone).
            source = self._reopen[0]
            if not isinstance(self._decoder, _TorchcodecDecoder) or isinstance(source, VideoDecoder):
                raise
            with _decoder_errors(self.metadata.source):
                fallback = self._open_pyav()
                if fallback.metadata.num_frames != self.metadata.num_frames:
                    raise
                self._decoder.close()
                self._decoder = fallback
                return self._decoder.decode(indices.tolist())

    def _open_pyav(self) -> _PyAVDecoder:
        """The same source opened with PyAV, where torchcodec cannot be trusted with it (a file object is rewound)."""
        source = self._reopen[0]
        if hasattr(source, "seek"):
            source.seek(0)
        return _PyAVDecoder(*self._reopen)

    def close(self):
        """Release the decoder (a ``VideoDecoder`` passed in as the source is left open)."""
        self._decoder.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info):
        self.close()


def probe_size(source) -> tuple[int, int]:
    """(width, height) of the video stream, from the container's header alone (FFmpeg's demuxer through PyAV:
    nothing decoded, no scan): to turn away videos too large to decode before decoding them. Raises
    `VideoDecodeError` naming the input."""
    resolved, name = _resolve_source(source, "torchcodec")
    if isinstance(resolved, VideoDecoder):
        return resolved.metadata.width, resolved.metadata.height
    if _is_empty(resolved):
        raise VideoDecodeError(name, "empty input (0 bytes)")
    with _decoder_errors(name), av.open(io.BytesIO(resolved) if isinstance(resolved, bytes) else resolved) as container:
        if not container.streams.video:
            kinds = sorted({stream.type for stream in container.streams}) or ["no streams"]
            raise VideoDecodeError(name, f"no video stream (found: {', '.join(kinds)})")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise VideoDecodeError(name, "no decoder for its video codec in this FFmpeg build")
        size = stream.codec_context.width, stream.codec_context.height
    if hasattr(resolved, "seek"):
        resolved.seek(0)
    return size


def open_video(video, backend: str = "torchcodec", num_threads: int = 1, max_short_side: int | None = None):
    """Any video hfvid takes, open for `get_frames`: frames already decoded (a tensor or array, T x H x W x C or
    T x C x H x W, or a list of PIL images: `hfvid.data.frames.check_frames`' rules) as a `DecodedVideo`, anything
    else (path, ``Path``, bytes, file, `datasets` Video value) as a `VideoReader` (``backend``, ``num_threads``,
    ``max_short_side``). Both are context managers; errors are `VideoDecodeError` or a ValueError naming the layout."""
    if is_decoded(video):
        return decoded_video(video)
    return VideoReader(video, backend=backend, num_threads=num_threads, max_short_side=max_short_side)


def read_frames(source, indices, backend: str = "torchcodec") -> tuple[torch.Tensor, VideoMetadata]:
    """One clip from ``source``: uint8 (len(indices), 3, H, W) RGB frames and the video's metadata."""
    with VideoReader(source, backend=backend) as reader:
        return reader.get_frames(indices), reader.metadata


def read_metadata(source, backend: str = "torchcodec") -> VideoMetadata:
    """Metadata of ``source`` without decoding any clip."""
    with VideoReader(source, backend=backend) as reader:
        return reader.metadata

