"""A corpus of unreadable "videos", made at test time from real files: every kind a user's folder or a Space
upload may hold. `make_bad_videos` writes them; the tests run them through every entry point that takes a video
(tests/test_bad_inputs.py) and through both decoding backends (tests/test_decoding.py)."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

from hfvid.data.encoding import write_mp4


def remux(source: str, destination, **options) -> str:
    """Copy the video stream of ``source`` into another container without re-encoding."""
    with av.open(source) as reader, av.open(str(destination), "w", options=options) as writer:
        video = reader.streams.video[0]
        output = writer.add_stream_from_template(video)
        for packet in reader.demux(video):
            if packet.dts is not None:
                packet.stream = output
                writer.mux(packet)
    return str(destination)


def write_audio_only(path, video_codec: str | None = None) -> str:
    """0.3 s of a 440 Hz sine in AAC; with ``video_codec``, also a video stream that gets no frame."""
    with av.open(str(path), "w") as container:
        if video_codec:
            video = container.add_stream(video_codec, rate=25)
            video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream("aac", rate=16000)
        audio.layout = "mono"
        container.start_encoding()
        sine = (0.3 * np.sin(2 * np.pi * 440 * np.arange(4800) / 16000)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(sine, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*audio.encode(frame), *audio.encode()]:
            container.mux(packet)
    return str(path)


def write_empty_mp4(path) -> str:
    """An mp4 whose header was written but that holds no sample at all."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
    return str(path)


def write_one_frame_avi(path, frame: np.ndarray) -> str:
    """A 1-frame MJPEG AVI: a still picture in a video container."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = frame.shape[1], frame.shape[0], "yuvj420p"
        for packet in [*stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")), *stream.encode()]:
            container.mux(packet)
    return str(path)


def write_bytes(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _moov_end(data: bytes) -> int:
    """Byte offset just after the top-level ``moov`` box of an mp4."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = int.from_bytes(data[offset : offset + 4], "big"), data[offset + 4 : offset + 8]
        if kind == b"moov":
            return offset + size
        offset += size
    raise ValueError("no moov box")


# kind -> what a reader of it must say (a regular expression on the reason, either backend; "" where the two
# backends' words differ). Files a folder listing would not find (missing) are left out of `folder_kinds`.
REASONS = {
    "missing": "No such file",
    "dangling_symlink": "No such file",
    "directory": "directory",
    "empty": "0 bytes",
    "zeros": "Invalid data",
    "text": "Invalid data",
    "html_error_page": "Invalid data",
    "random_bytes": "Invalid data",
    "gzip_of_an_mp4": "Invalid data",
    "zip_of_an_mp4": "",
    "truncated_before_the_index": "Invalid data",
    "truncated_after_the_index": "",
    "index_without_samples": "",
    "header_zeroed": "",
    "png_named_mp4": "still image",
    "jpeg_named_mp4": "still image",
    "one_frame_avi": "still image",
    "audio_only": "video stream",
    "video_stream_without_frames": "no frames",
    "header_only_mp4": "",
    "unsupported_codec": "video codec",
    "too_short_for_a_clip": "",
}


def make_bad_videos(root: Path, good_mp4: str) -> dict[str, str]:
    """Write one file of each kind in ``REASONS`` under ``root``; returns kind -> path. ``good_mp4`` is a real
    H.264 mp4 (several GOPs, its index at the end, as encoders write it) the broken ones are cut from."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data = Path(good_mp4).read_bytes()
    faststart = Path(remux(good_mp4, root / "faststart.mp4", movflags="faststart")).read_bytes()
    os.remove(root / "faststart.mp4")
    frame = (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)
    picture = io.BytesIO()
    Image.fromarray(frame).save(picture, format="PNG")
    jpeg = io.BytesIO()
    Image.fromarray(frame).save(jpeg, format="JPEG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("video.mp4", data)
    (root / "directory.mp4").mkdir(exist_ok=True)
    if not (root / "dangling_symlink.mp4").is_symlink():
        os.symlink(root / "deleted.mp4", root / "dangling_symlink.mp4")
    paths = {
        "missing": str(root / "missing.mp4"),
        "dangling_symlink": str(root / "dangling_symlink.mp4"),
        "directory": str(root / "directory.mp4"),
        "empty": write_bytes(root / "empty.mp4", b""),
        "zeros": write_bytes(root / "zeros.mp4", bytes(4096)),
        "text": write_bytes(root / "notes.mp4", b"not a video\n" * 20),
        "html_error_page": write_bytes(
            root / "download.mp4", b"<!DOCTYPE html><html><head><title>403 Forbidden</title></head></html>\n"
        ),
        "random_bytes": write_bytes(root / "noise.mp4", np.random.default_rng(0).bytes(4096)),
        "gzip_of_an_mp4": write_bytes(root / "compressed.mp4", gzip.compress(data)),
        "zip_of_an_mp4": write_bytes(root / "archive.mp4", archive.getvalue()),
        # The index (moov) is at the end: cut off, nothing is known of the stream.
        "truncated_before_the_index": write_bytes(root / "truncated.mp4", data[: len(data) * 3 // 10]),
        # The index up front: the file opens, but the samples past the cut are missing.
        "truncated_after_the_index": write_bytes(root / "cut.mp4", faststart[: len(faststart) * 6 // 10]),
        "index_without_samples": write_bytes(root / "index_only.mp4", faststart[: _moov_end(faststart)]),
        "header_zeroed": write_bytes(root / "header_zeroed.mp4", bytes(256) + data[256:]),
        "png_named_mp4": write_bytes(root / "picture.mp4", picture.getvalue()),
        "jpeg_named_mp4": write_bytes(root / "photo.mp4", jpeg.getvalue()),
        "one_frame_avi": write_one_frame_avi(root / "one_frame.avi", frame),
        "audio_only": write_audio_only(root / "sine.m4a"),
        "video_stream_without_frames": write_audio_only(root / "sine.nut", "libx264"),
        "header_only_mp4": write_empty_mp4(root / "header_only.mp4"),
        # The sample entry's fourcc renamed to one no FFmpeg knows: a real "unsupported codec" file.
        "unsupported_codec": write_bytes(root / "unknown_codec.mp4", data.replace(b"avc1", b"zzzz")),
        "too_short_for_a_clip": write_mp4(root / "two_frames.mp4", np.stack([frame, frame]), fps=25),
    }
    assert set(paths) == set(REASONS)
    return paths


def folder_kinds() -> list[str]:
    """The kinds a listing of a folder finds: every one but a missing file and a folder named like a video
    (walked as a folder)."""
    return [kind for kind in REASONS if kind not in ("missing", "directory")]
