"""Peak memory of decoding a small file with huge frames: a 64-frame 4000 x 3000 H.264 video (tens of KB).

    python benchmarks/bench_space_memory.py

Each row runs in a child forked after the imports, with its peak resident memory reset at its start, and decodes
the frames the Space decodes for one "/transformations" call (up to 48 clips of 8 frames spread over the video):

    full size             VideoReader(path).get_frames(...)                     (the Space before the size limits)
    scaled in decoder     VideoReader(path, max_short_side=256).get_frames(...)  (torchcodec; the Space now)
    scaled, PyAV          the same with backend="pyav"
    header probe          probe_size(path): what the Space reads before turning such a file away

"+MiB" is the growth of the child's peak resident memory above its resident memory at the start.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked  # noqa: E402

from hfvid.data.decoding import VideoReader, probe_size  # noqa: E402
from hfvid.data.encoding import write_mp4  # noqa: E402


def huge_video(path: Path) -> Path:
    if not path.is_file():
        frames = np.zeros((64, 3000, 4000, 3), dtype=np.uint8)
        frames[:, 1000:2000, :, 0] = np.linspace(0, 255, 64, dtype=np.uint8)[:, None, None]
        write_mp4(path, frames, fps=25, crf=40)
    return path


def measure(path: str, how: str) -> dict:
    start = proc_status_kib("VmRSS")
    reset_peak_memory()
    indices = np.linspace(0, 63, 48 * 8).round().astype(int) % 64
    if how == "header probe":
        probe_size(path)
    else:
        options = {"full size": {}, "scaled in decoder": {"max_short_side": 256}, "scaled, PyAV": {"max_short_side": 256, "backend": "pyav"}}[how]
        with VideoReader(path, **options) as reader:
            frames = reader.get_frames(indices)
        del frames
    return {"peak_mib": proc_status_kib("VmHWM") / 1024, "plus_mib": (proc_status_kib("VmHWM") - start) / 1024}


def main() -> None:
    path = huge_video(Path.home() / ".cache" / "hfvid" / "bench_space_memory" / "huge_4000x3000.mp4")
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB, 64 frames of 4000 x 3000\n")
    print("| decoding | peak MiB | +MiB |\n|---|---:|---:|")
    for how in ("full size", "scaled in decoder", "scaled, PyAV", "header probe"):
        result = run_forked(measure, str(path), how)
        print(f"| {how} | {result['peak_mib']:.0f} | {result['plus_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
