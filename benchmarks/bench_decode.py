"""Decoding speed of one TransRank pre-training sample: hfvid's pipeline vs the naive recipe vs the codec's floor.

One sample = the 3 clips (1x, 2x, reverse; 16 frames each, 112 x 112 after augmentation) that
``TransRankVideoProcessor(transformations=["1x", "2x", "reverse"], num_frames=16)`` draws from one
video; every sample opens its video anew, as `PretrainingClips` does. Videos: H.264 mp4, 640 x 360,
25 fps, 10 s and 60 s, keyframe every 25 frames (1 s) or x264's default (250, i.e. 10 s), with
moving texture, gradient, a moving disc and grain, so the codec has real work. They are generated
deterministically once into ``--cache-dir`` (about a minute of CPU the first time).

Methods, on ONE core (``torch.set_num_threads(1)``, 1 decoder thread), same random draws:

    hfvid/torchcodec, hfvid/pyav   VideoReader(path, backend).get_frames(3 clips) + processor.pretraining_clips
    naive/torchcodec               VideoDecoder.get_frames_in_range(0, n): every frame to RGB, then index + augment
    naive/pyav                     decode every frame with PyAV, ``frame.to_ndarray(format="rgb24")`` (as transformers'
                                   read_video_pyav) into one preallocated array, then index + augment
    floor/pyav                     open, seek to the keyframe before each needed run of frames, decode packets up to
                                   the last needed frame; no colour conversion, no augmentation (the frame index comes
                                   from the mp4, read outside the timing): what the codec itself costs
    floor+rgb/pyav                 the floor plus RGB conversion of the needed frames only (one swscale context)

Timing: per video, one process runs all non-naive methods interleaved (for each of ``--rounds``
rounds, for each draw, each method once), so that a change in this shared machine's load hits them
alike; a draw's time is its fastest round; the table shows the mean over the draws. The naive methods
(seconds per sample, cost independent of the draw) run ``--naive-samples`` draws once each. "cpu ms" is
the process CPU time (user + system), which moves much less than "wall ms" when other processes share
the cores; "cpu ms per stage" is the mean over all runs.

Memory: each configuration (video x method) runs alone in a process forked from the driver after its
imports; "peak MiB" is that process's VmHWM (/proc/self/status, reset at its start: the resident memory
it touched, its share of the already loaded libraries included), "+MiB" its growth above the resident
memory at its start: what the method needs.

Ratios use CPU time (wall time in brackets):

    speed-up = naive time / hfvid time      (targets: >= 3x on 60-s videos, >= 1.5x on 10-s videos)
    vs floor = hfvid time / floor time      (target: <= 1.5; hfvid includes the augmentation, the floor does not)

    python benchmarks/bench_decode.py                    # 10 s + 60 s, GOP 25 + 250, 6 draws x 2 rounds, naive 1 draw
    python benchmarks/bench_decode.py --quick            # 10-s videos, 4 draws x 2 rounds
    python benchmarks/bench_decode.py --profile hfvid/torchcodec --durations 60 --keyframe-intervals 250
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 25
FORMAT_VERSION = 1
METHODS = ("hfvid/torchcodec", "hfvid/pyav", "naive/torchcodec", "naive/pyav", "floor/pyav", "floor+rgb/pyav")
TRANSFORMATIONS = ["1x", "2x", "reverse"]
CLIP_LEN = 16
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hfvid" / "bench_decode"


# ----------------------------------------------------------------------------- machine and process


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_status_kib(field: str) -> int:
    """A memory field of /proc/self/status in KiB (VmHWM: peak resident memory; VmRSS: current)."""
    try:
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith(field + ":")).split()[1])
    except (FileNotFoundError, StopIteration):  # no /proc: ru_maxrss (KiB on Linux, bytes on macOS)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)


def machine_description() -> list[str]:
    """CPU model, cores, load, library versions (one line each)."""
    import av
    import torch
    import torchcodec

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (FileNotFoundError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    libavcodec = ".".join(map(str, av.library_versions["libavcodec"]))
    return [
        f"machine: {model}, {os.cpu_count()} logical cores ({usable} usable), load average {load} (1/5/15 min)",
        (
            f"python {platform.python_version()}, torch {torch.__version__}, torchcodec {torchcodec.__version__} "
            f"(system FFmpeg: {system_ffmpeg_version()}), av {av.__version__} (bundled libavcodec {libavcodec}), "
            f"numpy {np.__version__}"
        ),
    ]


def system_ffmpeg_version() -> str:
    """The libavcodec torchcodec loads: from this process's memory map once torchcodec decoded something."""
    try:
        with open("/proc/self/maps") as maps:
            names = {Path(line.split()[-1]).name for line in maps if "libavcodec" in line and "/av.libs/" not in line}
        return ", ".join(sorted(names)) or "unknown"
    except FileNotFoundError:
        return "unknown"


# ----------------------------------------------------------------------------- test videos


def render_frames(num_frames: int, seed: int = 0):
    """Deterministic 640 x 360 RGB frames: a smooth random texture panning over a diagonal sine band that
    drifts, a disc moving on a Lissajous path, and +-4 grain redrawn every frame (from a bank of 8 fields)."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    texture = torch.from_numpy(rng.random((1, 3, 45, 80), dtype=np.float32))
    texture = F.interpolate(texture, size=(2 * HEIGHT, 2 * WIDTH), mode="bicubic", align_corners=False)[0]
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    texture = (texture.permute(1, 2, 0).numpy() * 180).astype(np.int16)
    band = (60 * (0.5 + 0.5 * np.sin(np.arange(WIDTH + HEIGHT + 5 * num_frames) / 40))).astype(np.int16)
    diagonal = np.arange(WIDTH)[None, :] + np.arange(HEIGHT)[:, None]
    grain = rng.integers(-4, 5, (8, HEIGHT + 8, WIDTH + 8), dtype=np.int16)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    for t in range(num_frames):
        ox = int(WIDTH / 2 * (1 + np.sin(2 * np.pi * t / 300)))
        oy = int(HEIGHT / 2 * (1 + np.sin(2 * np.pi * t / 470 + 1)))
        image = texture[oy : oy + HEIGHT, ox : ox + WIDTH] + band[diagonal + 5 * t][..., None]
        k, dy, dx = rng.integers(0, 8, 3)
        image += grain[k, dy : dy + HEIGHT, dx : dx + WIDTH][..., None]
        cx, cy = int(WIDTH / 2 + WIDTH / 3 * np.cos(t / 20)), int(HEIGHT / 2 + HEIGHT / 3 * np.sin(t / 13))
        window = np.s_[max(cy - 40, 0) : cy + 40, max(cx - 40, 0) : cx + 40]
        image[window][(yy[window] - cy) ** 2 + (xx[window] - cx) ** 2 < 1600] = (255, 60, 20)
        yield np.clip(image, 0, 255).astype(np.uint8)


def video_path(cache_dir: Path, seconds: int, keyframe_interval: int) -> Path:
    return cache_dir / f"v{FORMAT_VERSION}_{seconds}s_gop{keyframe_interval}_{WIDTH}x{HEIGHT}_{FPS}fps.mp4"


def ensure_video(cache_dir: Path, seconds: int, keyframe_interval: int) -> Path:
    """Encode the test video once (libx264 veryfast, CRF 23, 1 thread, no MB-tree: same bytes every time,
    as `hfvid.data.encoding.write_mp4`, but streamed: a 60-s video would be 1 GB of frames in memory).
    ``keyframe_interval`` 250 is x264's default GOP (scene-cut keyframes allowed); 25 is fixed."""
    import av

    path = video_path(cache_dir, seconds, keyframe_interval)
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial{os.getpid()}.mp4")
    options = {"crf": "23", "preset": "veryfast", "threads": "1", "x264-params": "mbtree=0"}
    if keyframe_interval != 250:
        options.update({"g": str(keyframe_interval), "keyint_min": str(keyframe_interval), "sc_threshold": "0"})
    started = time.perf_counter()
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS), options=options)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for frame in render_frames(seconds * FPS):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    os.replace(partial, path)
    print(f"  generated {path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def frame_index(path: str) -> tuple[list[int], list[int]]:
    """Presentation timestamps of every frame (sorted) and the frame numbers of the keyframes."""
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        packets = sorted((p.pts, p.is_keyframe) for p in container.demux(stream) if p.size and p.pts is not None)
    return [pts for pts, _ in packets], [i for i, (_, key) in enumerate(packets) if key]


# ----------------------------------------------------------------------------- the methods (one sample each)


def make_processor():
    from hfvid.models.transrank.video_processing_transrank import TransRankVideoProcessor

    return TransRankVideoProcessor(transformations=TRANSFORMATIONS, num_frames=CLIP_LEN)


def hfvid_sample(path, processor, rng, backend, stages):
    from hfvid.data.decoding import VideoReader

    t0 = cpu_seconds()
    with VideoReader(path, backend=backend, num_threads=1) as reader:
        t1 = cpu_seconds()
        indices = processor.sample_pretraining_indices(reader.metadata.num_frames, rng)
        frames = reader.get_frames(np.concatenate(indices))
    t2 = cpu_seconds()
    clips = processor.pretraining_clips(frames, indices)
    t3 = cpu_seconds()
    for stage, seconds in (("open", t1 - t0), ("decode", t2 - t1), ("augment", t3 - t2)):
        stages[stage] = stages.get(stage, 0.0) + seconds
    return clips


def naive_torchcodec_sample(path, processor, rng, stages):
    import torch
    from torchcodec.decoders import VideoDecoder

    t0 = cpu_seconds()
    decoder = VideoDecoder(path, seek_mode="exact", num_ffmpeg_threads=1)
    num_frames = decoder.metadata.num_frames
    video = decoder.get_frames_in_range(0, num_frames).data  # every frame, N x C x H x W RGB
    del decoder
    t1 = cpu_seconds()
    indices = processor.sample_pretraining_indices(num_frames, rng)
    clips = processor.pretraining_clips(video[torch.from_numpy(np.concatenate(indices))], indices)
    t2 = cpu_seconds()
    stages["decode"] = stages.get("decode", 0.0) + t1 - t0
    stages["augment"] = stages.get("augment", 0.0) + t2 - t1
    return clips


def naive_pyav_sample(path, processor, rng, stages):
    import av
    import torch

    t0 = cpu_seconds()
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        video = np.empty((stream.frames, stream.height, stream.width, 3), np.uint8)  # mp4: exact count
        num_frames = 0
        for num_frames, frame in enumerate(container.decode(stream), start=1):
            video[num_frames - 1] = frame.to_ndarray(format="rgb24")
    video = torch.from_numpy(video[:num_frames]).permute(0, 3, 1, 2)
    t1 = cpu_seconds()
    indices = processor.sample_pretraining_indices(num_frames, rng)
    clips = processor.pretraining_clips(video[torch.from_numpy(np.concatenate(indices))], indices)
    t2 = cpu_seconds()
    stages["decode"] = stages.get("decode", 0.0) + t1 - t0
    stages["augment"] = stages.get("augment", 0.0) + t2 - t1
    return clips


def floor_sample(path, processor, rng, index, convert, stages):
    """Decode only what the codec must: for each run of needed frames, seek to the keyframe before it and
    decode up to its last frame; a needed frame whose keyframe was already passed continues the run."""
    import av
    from av.video.reformatter import VideoReformatter

    all_pts, keyframes = index
    indices = processor.sample_pretraining_indices(len(all_pts), rng)
    needed = sorted(set(np.concatenate(indices).tolist()))
    runs = [[needed[0]]]
    for frame in needed[1:]:
        keyframe = keyframes[bisect.bisect_right(keyframes, frame) - 1]
        if keyframe <= runs[-1][-1]:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    t0 = cpu_seconds()
    kept = []
    reformatter = VideoReformatter()  # one swscale context for all frames
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for run in runs:
            wanted = {all_pts[i] for i in run}
            last = all_pts[run[-1]]
            container.seek(all_pts[run[0]], stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.pts in wanted:
                    kept.append(
                        reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray() if convert else frame
                    )
                if frame.pts >= last:
                    break
    assert len(kept) == len(needed), (len(kept), len(needed))
    stages["decode"] = stages.get("decode", 0.0) + cpu_seconds() - t0
    return kept


def reset_peak_memory() -> bool:
    """Reset this process's VmHWM to its current resident memory (Linux >= 4.0); False where that fails."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def setup_process():
    """Imports (before any memory reading), one thread, the processor."""
    import torch

    torch.set_num_threads(1)
    import av.video.reformatter  # noqa: F401
    import torchcodec.decoders  # noqa: F401

    import hfvid.data.decoding  # noqa: F401

    return make_processor()


class Sampler:
    """Runs one sample of any method on one video; draw i uses ``default_rng([seed, i])`` whatever the method."""

    def __init__(self, path: str, seed: int, processor):
        self.path, self.seed, self.processor = path, seed, processor
        self.index = frame_index(path)  # for the floor: what the mp4's index tells, read once, untimed
        self.stages: dict[str, dict[str, float]] = {}  # method -> stage -> CPU seconds (summed)
        self.runs: dict[str, int] = {}

    def __call__(self, method: str, draw: int) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of one sample."""
        import torch

        rng = np.random.default_rng([self.seed, draw])
        torch.manual_seed(int(rng.integers(2**63)))
        stages = self.stages.setdefault(method, {})
        self.runs[method] = self.runs.get(method, 0) + 1
        start, cpu_start = time.perf_counter(), cpu_seconds()
        if method.startswith("hfvid/"):
            result = hfvid_sample(self.path, self.processor, rng, method.split("/")[1], stages)
        elif method == "naive/torchcodec":
            result = naive_torchcodec_sample(self.path, self.processor, rng, stages)
        elif method == "naive/pyav":
            result = naive_pyav_sample(self.path, self.processor, rng, stages)
        else:
            result = floor_sample(self.path, self.processor, rng, self.index, method.startswith("floor+rgb"), stages)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        del result
        return wall, cpu

    def stage_means(self, method: str) -> dict[str, float]:
        return {stage: seconds / self.runs[method] for stage, seconds in self.stages[method].items()}


def measure(spec: dict, processor) -> dict:
    """``spec["mode"]``:

    - "memory": one configuration (video x method) alone in this process: ``samples`` draws, once each;
      peak resident memory (VmHWM, reset first) and its growth; the times too (used for the naive methods,
      whose long samples need no interleaving).
    - "timing": every method in ``methods`` on one video, interleaved (for each round, for each draw, each
      method once), so that a change in the machine's load hits them all alike; a draw's time is its fastest
      round; the result is the mean over the draws. One untimed warm-up sample per method first.
    """
    sampler = Sampler(spec["path"], spec["seed"], processor)
    if spec["mode"] == "memory":
        start_kib = proc_status_kib("VmRSS")
        reset_peak_memory()
        times = [sampler(spec["method"], draw) for draw in range(spec["samples"])]
        return {
            "peak_mib": proc_status_kib("VmHWM") / 1024,
            "start_mib": start_kib / 1024,
            "wall_s": float(np.mean([wall for wall, _ in times])),
            "cpu_s": float(np.mean([cpu for _, cpu in times])),
            "stages_s": sampler.stage_means(spec["method"]),
        }
    methods = spec["methods"]
    for method in methods:
        sampler(method, spec["samples"])  # a draw that is not timed
        sampler.stages[method], sampler.runs[method] = {}, 0
    profiler = cProfile.Profile() if spec.get("profile") in methods else None
    best = {method: [[float("inf"), float("inf")] for _ in range(spec["samples"])] for method in methods}
    for _ in range(spec["rounds"]):
        for draw in range(spec["samples"]):
            for method in methods:
                if profiler and method == spec["profile"]:
                    profiler.enable()
                wall, cpu = sampler(method, draw)
                if profiler:
                    profiler.disable()
                best[method][draw] = [min(wall, best[method][draw][0]), min(cpu, best[method][draw][1])]
    out = {}
    for method in methods:
        out[method] = {
            "wall_s": float(np.mean([wall for wall, _ in best[method]])),
            "cpu_s": float(np.mean([cpu for _, cpu in best[method]])),
            "stages_s": sampler.stage_means(method),
        }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        out[spec["profile"]]["profile"] = text.getvalue()
    return out


# ----------------------------------------------------------------------------- driver


def run_isolated(spec: dict, processor) -> dict:
    """``measure(spec)`` in a child process of its own: forked from this one (imports done: no 6 s of
    `import torch, transformers` per child) where fork and /proc/self/clear_refs exist, else a fresh
    interpreter (``--configuration``)."""
    if not hasattr(os, "fork") or not reset_peak_memory():
        command = [sys.executable, os.path.abspath(__file__), "--configuration", json.dumps(spec)]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{spec} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.splitlines()[-1])
    return run_forked(measure, spec, processor)


class _Tee:
    """stdout that also keeps what was printed."""

    def __init__(self, stream):
        self.stream, self.lines = stream, []

    def write(self, text: str) -> int:
        self.lines.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def write_report(output: Path, title: str, script: str, argv: list[str], run) -> None:
    """Call ``run()`` (a benchmark that prints its results) and write what it printed to ``output`` as markdown,
    with the command that reproduces it: benchmark numbers in docs stay generated, not copied by hand."""
    tee = sys.stdout = _Tee(sys.stdout)
    try:
        run()
    finally:
        sys.stdout = tee.stream
    command = " ".join([f"python benchmarks/{script}", *argv])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        f"# {title}\n\nWritten by `{command}` (see the script's docstring for what each column measures).\n\n"
        f"```\n{''.join(tee.lines).rstrip()}\n```\n"
    )
    print(f"wrote {output}")


def run_forked(function, *args):
    """``function(*args)`` in a forked child (imports shared, its own peak memory); its JSON-able result."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            message = {"ok": function(*args)}
        except BaseException:  # noqa: BLE001 - reported by the parent
            import traceback

            message = {"error": traceback.format_exc()}
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(json.dumps(message))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        message = json.loads(pipe.read() or '{"error": "the child died without a word"}')
    os.waitpid(pid, 0)
    if "error" in message:
        raise RuntimeError(f"{function.__name__}{args} failed:\n{message['error']}")
    return message["ok"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"where the test videos live (default {DEFAULT_CACHE})"
    )
    parser.add_argument(
        "--durations", type=int, nargs="+", default=[10, 60], help="video lengths in seconds (default 10 60)"
    )
    parser.add_argument(
        "--keyframe-intervals",
        type=int,
        nargs="+",
        default=[25, 250],
        help="GOP sizes; 250 = x264's default (default 25 250)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        choices=METHODS,
        metavar="METHOD",
        help=f"any of {', '.join(METHODS)} (default all)",
    )
    parser.add_argument("--samples", type=int, default=6, help="draws per video, the same for every method (default 6)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of each draw, fastest kept; not for the naive methods (default 2)"
    )
    parser.add_argument(
        "--naive-samples",
        type=int,
        default=1,
        help="draws of the naive methods, once each: their cost does not depend on the draw (default 1)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="10-s videos only, 4 draws x 2 rounds, 1 naive draw")
    parser.add_argument(
        "--profile",
        metavar="METHOD",
        choices=METHODS,
        help="also print a cProfile (cumulative) of METHOD (not naive) on each video",
    )
    parser.add_argument("--configuration", help=argparse.SUPPRESS)  # JSON spec: measure it here, print JSON
    args = parser.parse_args(argv)
    if args.configuration:
        print(json.dumps(measure(json.loads(args.configuration), setup_process())))
        return
    if args.quick:
        args.durations, args.samples, args.rounds, args.naive_samples = [10], 4, 2, 1

    started, cpu_started = time.perf_counter(), cpu_seconds()
    processor = setup_process()
    print("\n".join(machine_description()))
    print(
        f"sample: TransRank {'/'.join(TRANSFORMATIONS)} clips of {CLIP_LEN} frames -> 3 x {CLIP_LEN} x 3 x 112 x 112 "
        f"float; videos H.264 {WIDTH}x{HEIGHT} {FPS} fps, CRF 23; 1 thread; {args.samples} draws x {args.rounds} "
        f"interleaved rounds (fastest kept), naive {args.naive_samples} draw(s) x 1; mean over draws",
        flush=True,
    )
    videos = [(s, g, str(ensure_video(args.cache_dir, s, g))) for s in args.durations for g in args.keyframe_intervals]
    warm_up = {
        "mode": "memory",
        "method": "hfvid/torchcodec",
        "path": videos[0][2],
        "seed": args.seed + 1,
        "samples": 1,
    }
    measure(warm_up, processor)  # lazy initialisation (torchvision kernels, codecs) before forking
    print(f"parent process after imports and warm-up: {proc_status_kib('VmRSS') / 1024:.0f} MiB resident")

    header = "{:>5} {:>5} {:17} {:>8} {:>7} {:>8} {:>8} {:>8} {:>7}  {}"
    row = "{:>5} {:>5} {:17} {:>8.2f} {:>7.2f} {:>8.1f} {:>8.1f} {:>8.0f} {:>7.0f}  {}"
    print()
    print(
        header.format(
            "video", "GOP", "method", "sample/s", "(wall)", "cpu ms", "wall ms", "peak MiB", "+MiB", "cpu ms per stage"
        )
    )
    results = {}
    for seconds, gop, path in videos:
        common = {"path": path, "seed": args.seed}
        interleaved = [m for m in args.methods if not m.startswith("naive")]
        timing = (
            run_isolated(
                {
                    **common,
                    "mode": "timing",
                    "methods": interleaved,
                    "samples": args.samples,
                    "rounds": args.rounds,
                    "profile": args.profile,
                },
                processor,
            )
            if interleaved
            else {}
        )
        for method in args.methods:
            naive = method.startswith("naive")
            memory = run_isolated(
                {**common, "mode": "memory", "method": method, "samples": args.naive_samples if naive else 1}, processor
            )
            result = results[seconds, gop, method] = (
                memory if naive else {**timing[method], **{k: memory[k] for k in ("peak_mib", "start_mib")}}
            )
            stages = " ".join(f"{k} {1000 * v:.0f}" for k, v in result["stages_s"].items())
            print(
                row.format(
                    f"{seconds}s",
                    gop,
                    method,
                    1 / result["cpu_s"],
                    1 / result["wall_s"],
                    1000 * result["cpu_s"],
                    1000 * result["wall_s"],
                    result["peak_mib"],
                    result["peak_mib"] - result["start_mib"],
                    stages,
                ),
                flush=True,
            )
            if "profile" in result:
                print(result["profile"])

    print(
        "\nratios of CPU time (wall time in brackets): speed-up = naive / hfvid (target >= 3 on 60-s videos, "
        ">= 1.5 on 10-s);\nvs floor = hfvid / floor/pyav (target <= 1.5); decode/floor = hfvid's open + decode "
        "stages (no augmentation) / floor/pyav, and the same / floor+rgb/pyav (means over all rounds)"
    )
    print(
        "{:>5} {:>5} {:11} {:>13} {:>13} {:>7} {:>9}  {}".format(
            "video", "GOP", "hfvid", "speed-up", "vs floor", "decode/", "decode/", "targets"
        )
    )
    print("{:>5} {:>5} {:11} {:>13} {:>13} {:>7} {:>9}".format("", "", "", "", "", "floor", "floor+rgb"))
    for seconds, gop, _ in videos:
        for backend in ("torchcodec", "pyav"):
            ours = results.get((seconds, gop, f"hfvid/{backend}"))
            if ours is None:
                continue
            naive, floor, floor_rgb = (
                results.get((seconds, gop, key)) for key in (f"naive/{backend}", "floor/pyav", "floor+rgb/pyav")
            )
            cells, verdicts = [], []
            if naive:
                speedup = naive["cpu_s"] / ours["cpu_s"]
                target = 3.0 if seconds >= 60 else 1.5
                cells.append(f"{speedup:.2f} ({naive['wall_s'] / ours['wall_s']:.2f})")
                verdicts.append(f"speed-up {'met' if speedup >= target else 'MISSED'} (>= {target:g})")
            else:
                cells.append("-")
            if floor:
                slowdown = ours["cpu_s"] / floor["cpu_s"]
                cells.append(f"{slowdown:.2f} ({ours['wall_s'] / floor['wall_s']:.2f})")
                verdicts.append(f"vs floor {'met' if slowdown <= 1.5 else 'MISSED'} (<= 1.5)")
            else:
                cells.append("-")
            decode = ours["stages_s"]["open"] + ours["stages_s"]["decode"]
            cells += [f"{decode / other['stages_s']['decode']:.2f}" if other else "-" for other in (floor, floor_rgb)]
            print(
                "{:>5} {:>5} {:11} {:>13} {:>13} {:>7} {:>9}  {}".format(
                    f"{seconds}s", gop, backend, *cells, ", ".join(verdicts)
                )
            )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_total = cpu_seconds() - cpu_started + children.ru_utime + children.ru_stime
    print(f"\ntotal {time.perf_counter() - started:.0f} s wall, {cpu_total:.0f} s CPU; load average at the end {load}")


if __name__ == "__main__":
    main()
