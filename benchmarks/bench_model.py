"""Training-step speed and peak memory of hfvid's backbones against their reference implementations.

For R3D-18 and R(2+1)D-18, times forward + backward (clips/s) of torchvision's model (``fc`` =
Identity) and ours (with ``--channels-last``, ours in ``torch.channels_last_3d`` too); for the video ViTs
(``vit_tiny``, ``vit_s``, ``vit_b``), transformers' VideoMAE encoder of the same size (``VideoMAEModel``: same
width, depth, heads, MLP, tubelets and input; SDPA attention; mean of the last tokens) against ours (its
position tables made for the input's size, so nothing is interpolated; SDPA). In float32 and under bfloat16
autocast, on CPU and on CUDA when available; ``--archs`` picks the backbones.

Each (device, dtype, arch) runs in one child process (on CPU forked from this one after its imports,
no 9 s of ``import torch`` per child; on CUDA a fresh interpreter) that holds every model of the
comparison and interleaves their steps (A B, then B A, ...), so that a change in this shared
machine's load hits them alike. "clips/s" and "vs ref" come from each model's fastest step ("best"),
which shrugs off steps slowed by other processes; "median" is the median step; "cpu ms" the process
CPU time of the median step, which tells a busy machine (wall time well above cpu ms / threads) from
a slow model. Memory is per step: on CPU "train" is the resident memory a step adds above what was
resident before it (VmHWM reset to VmRSS first; the other models' weights are resident but not their
activations or gradients), "peak" the process's resident memory at that step's peak (torch and all
the models included); on CUDA ``torch.cuda.max_memory_allocated`` ("peak": all tensors; "train":
above what was allocated before the step).

With ``--channels-last``, checks first that channels_last_3d keeps our pooled features (eval mode,
float32) within 1e-4 of torchvision's contiguous ones; if not, channels_last_3d is left out.

Default: one timed step per model, no warm-up step (measured here: the first step of torchvision's
R3D-18, float32 or bf16, is within the +-10% step-to-step noise of the next three on this shared
machine), so that the four benchmarks fit in 10 minutes: 8 steps of 8 x 16 x 112 x 112 clips, ~1.5 min
on 2 idle cores, ~3 min on one. Ratios within ~10% of 1.0 are noise then; ``--steps 3`` for more.
Which model runs first alternates from one (dtype, arch) to the next.

    python benchmarks/bench_model.py                          # batch 8, 16 x 112 x 112, 1 step each
    python benchmarks/bench_model.py --steps 3 --warmup 1 --channels-last
    python benchmarks/bench_model.py --batch 1 --frames 8 --size 56 --steps 2
    python benchmarks/bench_model.py --devices cuda --batch 32 --steps 5 --warmup 3 --cudnn-benchmark both \
        --archs r3d_18 r2plus1d_18 vit_tiny vit_s vit_b            # a GPU: more steps, cuDNN's autotuner off and on
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torchvision

from hfvid.backbones import build_backbone, convert_torchvision_state_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_decode import proc_status_kib, reset_peak_memory, run_forked, write_report

ARCHS = ("r3d_18", "r2plus1d_18")
VIT_ARCHS = ("vit_tiny", "vit_s", "vit_b")


def reference_name(arch: str) -> str:
    return "transformers VideoMAE" if arch.startswith("vit") else "torchvision"


def hfvid_backbone(arch: str, frames: int, size: int) -> torch.nn.Module:
    """Our backbone; a ViT with its position tables made for ``frames`` x ``size`` x ``size`` clips."""
    if arch.startswith("vit"):
        return build_backbone({**build_backbone(arch).config, "image_size": size, "num_frames": frames})
    return build_backbone(arch)


def videomae_encoder(arch: str, frames: int, size: int) -> torch.nn.Module:
    """transformers' VideoMAE encoder of the size of our ViT ``arch``, random weights, SDPA attention."""
    from transformers import VideoMAEConfig, VideoMAEModel

    config = build_backbone(arch).config
    return VideoMAEModel(
        VideoMAEConfig(
            image_size=size, num_frames=frames, patch_size=config["patch_size"], tubelet_size=config["tubelet_size"],
            hidden_size=config["hidden_size"], num_hidden_layers=config["depth"], num_attention_heads=config["num_heads"],
            intermediate_size=int(config["hidden_size"] * config["mlp_ratio"]), qkv_bias=True, use_mean_pooling=True,
            attn_implementation="sdpa",
        )  # fmt: skip
    )

TOLERANCE = 1e-4


def torchvision_backbone(arch: str) -> torch.nn.Module:
    """torchvision's model with random weights and the classifier replaced by Identity."""
    model = getattr(torchvision.models.video, arch)(weights=None)
    model.fc = torch.nn.Identity()
    return model


def hfvid_pooled(model, pixel_values: torch.Tensor) -> torch.Tensor:
    """Our backbone's pooled features of torchvision-layout clips (B, C, T, H, W). Since the backbone registry our
    backbones take transformers' (B, T, C, H, W) (a transposed view, no copy) and return an output object; the
    code before took (B, C, T, H, W) and returned a tuple, so this script also measures it (before/after)."""
    if hasattr(model, "describe"):
        return model(pixel_values.transpose(1, 2)).pooler_output
    return model(pixel_values)[0]


def channels_last_max_diff(arch: str, frames: int, size: int) -> float:
    """Max abs difference between torchvision's pooled features and ours in channels_last_3d, on
    random weights and batch-norm statistics, in eval mode."""
    torch.manual_seed(0)
    reference = torchvision_backbone(arch)
    for module in reference.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.2)
    model = build_backbone(arch)
    model.load_state_dict(convert_torchvision_state_dict(reference.state_dict(), arch))
    model = model.to(memory_format=torch.channels_last_3d).eval()
    pixel_values = torch.randn(1, 3, frames, size, size)
    with torch.no_grad():
        expected = reference.eval()(pixel_values)
        pooled = hfvid_pooled(model, pixel_values.contiguous(memory_format=torch.channels_last_3d))
    return (pooled - expected).abs().max().item()


def channels_last_diffs(frames: int, size: int) -> dict[str, float]:
    return {arch: channels_last_max_diff(arch, frames, size) for arch in ARCHS}


def measure_group(spec: dict) -> list[dict]:
    """Every model of ``spec["impls"]`` ([impl, channels_last] pairs) on one (device, dtype, arch), same
    input, ``spec["warmup"]`` untimed then ``spec["steps"]`` timed forward + backward steps each,
    interleaved: round r runs the models in order, or in reverse order when r + ``spec["order"]`` is odd."""
    torch.manual_seed(0)
    device = torch.device(spec["device"])
    torch.backends.cudnn.benchmark = spec.get("cudnn_benchmark", False)
    pixel_values = torch.randn(spec["batch"], 3, spec["frames"], spec["size"], spec["size"])
    runs = []
    for impl, channels_last in spec["impls"]:
        memory_format = torch.channels_last_3d if channels_last else torch.contiguous_format
        if impl == "torchvision":
            model = torchvision_backbone(spec["arch"])
        elif impl == "transformers VideoMAE":
            model = videomae_encoder(spec["arch"], spec["frames"], spec["size"])
        else:
            model = hfvid_backbone(spec["arch"], spec["frames"], spec["size"])
        runs.append({
            "impl": impl,
            "model": model.to(device, memory_format=memory_format).train(),
            "input": pixel_values.to(device).contiguous(memory_format=memory_format),
            "seconds": [], "cpu_seconds": [], "peak": [], "train": [],
        })  # fmt: skip

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def step(run: dict) -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=spec["dtype"] == "bfloat16"):
            if run["impl"] == "torchvision":
                pooled = run["model"](run["input"])
            elif run["impl"] == "transformers VideoMAE":
                pooled = run["model"](run["input"].transpose(1, 2)).last_hidden_state.mean(dim=1)
            else:
                pooled = hfvid_pooled(run["model"], run["input"])
        pooled.float().square().mean().backward()

    for round_index in range(spec["warmup"] + spec["steps"]):
        for run in runs if (round_index + spec.get("order", 0)) % 2 == 0 else runs[::-1]:
            run["model"].zero_grad(set_to_none=True)  # no gradients of any model resident before a step
            synchronize()
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
                before = torch.cuda.memory_allocated()
            else:
                before = proc_status_kib("VmRSS") * 1024
                reset_peak_memory()
            start, cpu_start = time.perf_counter(), time.process_time()
            step(run)
            synchronize()
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
            peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else proc_status_kib("VmHWM") * 1024
            run["model"].zero_grad(set_to_none=True)
            if round_index >= spec["warmup"]:
                run["seconds"].append(seconds)
                run["cpu_seconds"].append(cpu_seconds)
                run["peak"].append(peak)
                run["train"].append(peak - before)
    return [
        {
            "clips_per_s": spec["batch"] / min(run["seconds"]),
            "median_ms": 1000 * statistics.median(run["seconds"]),
            "best_ms": 1000 * min(run["seconds"]),
            "cpu_ms": 1000 * statistics.median(run["cpu_seconds"]),
            "peak_mib": max(run["peak"]) / 2**20,
            "training_mib": max(run["train"]) / 2**20,
        }
        for run in runs
    ]


def run_group(spec: dict) -> list[dict]:
    """``measure_group`` in a child: forked on CPU, a fresh interpreter on CUDA (no CUDA after fork)."""
    if spec["device"] == "cpu" and hasattr(os, "fork") and reset_peak_memory():
        return run_forked(measure_group, spec)
    command = [sys.executable, os.path.abspath(__file__), "--configuration", json.dumps(spec)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--steps", type=int, default=1, help="timed steps per model; the fastest counts (default 1)")
    parser.add_argument("--warmup", type=int, default=0, help="untimed steps per model first (default 0)")
    parser.add_argument("--channels-last", action="store_true", help="also time hfvid's models in channels_last_3d")
    parser.add_argument(
        "--archs", nargs="+", default=[*ARCHS, "vit_tiny", "vit_s"], choices=[*ARCHS, *VIT_ARCHS],
        help="backbones to compare with their reference (default: both ResNets, vit_tiny and vit_s)",
    )  # fmt: skip
    parser.add_argument(
        "--devices", nargs="+", choices=["cpu", "cuda"], help="default: cpu, and cuda where there is a GPU"
    )
    parser.add_argument(
        "--cudnn-benchmark", choices=["off", "on", "both"], default="off",
        help="torch.backends.cudnn.benchmark for the CUDA runs (both: each ResNet group twice; default off)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, help="also write the report to this markdown file (docs/results/backbones.md)")
    parser.add_argument("--configuration", help=argparse.SUPPRESS)  # JSON spec: measure one group, print JSON
    args = parser.parse_args()
    if args.configuration:
        print(json.dumps(measure_group(json.loads(args.configuration))))
        return
    if args.output:
        output, args.output = args.output, None
        write_report(output, "Backbone training steps vs reference implementations", "bench_model.py", sys.argv[1:], lambda: compare(args))
        return
    compare(args)


def compare(args) -> None:
    """Every (device, dtype, arch) group of ``args``, printed as a table."""
    started = time.perf_counter()
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, {torch.get_num_threads()} CPU threads; load average {load}"
    )
    if "cuda" in devices:
        import transformers

        print(f"GPU {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}, transformers {transformers.__version__}")
    shape = f"{args.batch} x 3 x {args.frames} x {args.size} x {args.size}"
    print(f"input {shape}, {args.warmup} warmup + {args.steps} timed steps per model, interleaved")
    impls = [("torchvision", False), ("hfvid", False)]
    if args.channels_last:
        # In a child, like every measurement: this process starts no OpenMP thread pool, which a forked child
        # could not use (it would wait forever on the parent's threads).
        diffs = run_forked(channels_last_diffs, args.frames, args.size)
        for arch, diff in diffs.items():
            print(f"{arch}: hfvid channels_last_3d vs torchvision, pooled max abs diff {diff:.2e}")
        if max(diffs.values()) < TOLERANCE:
            impls.append(("hfvid", True))
        else:
            print(f"channels_last_3d left out: outputs differ by more than {TOLERANCE:g}")

    columns = ["device", "dtype", "arch", "model", "clips/s", "median ms", "best ms", "cpu ms", "peak MiB", "train MiB"]
    row = "{:6} {:8} {:11} {:35} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>6}"
    print(row.format(*columns, "vs ref"))
    groups = []
    for device, dtype, arch in itertools.product(devices, ("float32", "bfloat16"), args.archs):
        benchmark_modes = [False]
        if device == "cuda" and not arch.startswith("vit"):  # cuDNN's autotuner picks convolution algorithms
            benchmark_modes = {"off": [False], "on": [True], "both": [False, True]}[args.cudnn_benchmark]
        groups += [(device, dtype, arch, mode) for mode in benchmark_modes]
    for group, (device, dtype, arch, cudnn_benchmark) in enumerate(groups):
        spec = {key: getattr(args, key) for key in ("batch", "frames", "size", "steps", "warmup")}
        group_impls = [(reference_name(arch), False), ("hfvid", False)] if arch.startswith("vit") else impls
        spec.update(device=device, dtype=dtype, arch=arch, impls=group_impls, order=group % 2, cudnn_benchmark=cudnn_benchmark)
        if cudnn_benchmark:
            group_impls = [(impl + " (cudnn.benchmark)", channels_last) for impl, channels_last in group_impls]
        results = run_group(spec)
        reference = results[0]["clips_per_s"]
        for (impl, channels_last), result in zip(group_impls, results):
            numbers = ["clips_per_s", "median_ms", "best_ms", "cpu_ms", "peak_mib", "training_mib"]
            print(
                row.format(
                    device,
                    dtype,
                    arch,
                    impl + (" channels_last_3d" if channels_last else ""),
                    *(f"{result[key]:.2f}" if key == "clips_per_s" else f"{result[key]:.0f}" for key in numbers),
                    f"{result['clips_per_s'] / reference:.2f}",
                ),
                flush=True,
            )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f} s wall; load average at the end {load}")


if __name__ == "__main__":
    main()
