"""Training-step speed and peak memory of hfvid's video ResNets against torchvision's.

For R3D-18 and R(2+1)D-18, times forward + backward (clips/s) of torchvision's model (``fc`` =
Identity), ours, and ours in ``torch.channels_last_3d``, in float32 and under bfloat16 autocast,
on CPU and on CUDA when available. Each configuration runs in its own subprocess, so its peak
memory is its own: resident memory on CPU ("peak": the whole process, torch and the model
included; "train": its growth over the warmup and timed steps), ``torch.cuda.max_memory_allocated``
on CUDA ("peak": all tensors; "train": above the model and input). Step times are medians ("best":
the fastest step); "cpu ms" is the process CPU time per step, which tells a busy machine (wall
time well above cpu ms / threads) from a slow model.

Before timing, checks that channels_last_3d keeps our pooled features (eval mode, float32) within
1e-4 of torchvision's contiguous ones; if not, channels_last_3d is left out of the table.

    python benchmarks/bench_model.py                          # batch 8, 16 x 112 x 112, 5 steps
    python benchmarks/bench_model.py --batch 1 --frames 8 --size 56 --steps 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
import torchvision

from hfvid.backbones import build_backbone, convert_torchvision_state_dict

ARCHS = ("r3d_18", "r2plus1d_18")
TOLERANCE = 1e-4


def torchvision_backbone(arch: str) -> torch.nn.Module:
    """torchvision's model with random weights and the classifier replaced by Identity."""
    model = getattr(torchvision.models.video, arch)(weights=None)
    model.fc = torch.nn.Identity()
    return model


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
        pooled, _ = model(pixel_values.contiguous(memory_format=torch.channels_last_3d))
    return (pooled - expected).abs().max().item()


def peak_rss_bytes() -> int:
    """This process's peak resident memory. Linux's VmHWM rather than ru_maxrss, which Linux
    carries over fork + exec, so a subprocess's ru_maxrss starts at its parent's peak."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    except FileNotFoundError:  # no /proc (macOS), where ru_maxrss is in bytes
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_configuration(spec: dict) -> dict:
    """Time ``spec["steps"]`` forward + backward steps, one by one, after ``spec["warmup"]`` untimed
    ones; clips/s comes from the median step, which shrugs off steps slowed by other processes."""
    torch.manual_seed(0)
    device = torch.device(spec["device"])
    memory_format = torch.channels_last_3d if spec["channels_last"] else torch.contiguous_format
    model = torchvision_backbone(spec["arch"]) if spec["impl"] == "torchvision" else build_backbone(spec["arch"])
    model = model.to(device, memory_format=memory_format).train()
    pixel_values = torch.randn(spec["batch"], 3, spec["frames"], spec["size"], spec["size"], device=device)
    pixel_values = pixel_values.contiguous(memory_format=memory_format)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=spec["dtype"] == "bfloat16"):
            output = model(pixel_values)
        pooled = output if spec["impl"] == "torchvision" else output[0]
        pooled.float().square().mean().backward()

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = peak_rss_bytes()
    for _ in range(spec["warmup"]):
        step()
    step_seconds, step_cpu_seconds = [], []
    for _ in range(spec["steps"]):
        synchronize()
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        synchronize()
        step_seconds.append(time.perf_counter() - start)
        step_cpu_seconds.append(time.process_time() - cpu_start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = peak_rss_bytes()
    return {
        "clips_per_s": spec["batch"] / statistics.median(step_seconds),
        "median_ms": 1000 * statistics.median(step_seconds),
        "best_ms": 1000 * min(step_seconds),
        "cpu_ms": 1000 * statistics.median(step_cpu_seconds),
        "peak_mib": peak / 2**20,
        "training_mib": (peak - before) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (oneDNN bf16 settles after 2)")
    parser.add_argument("--configuration", help=argparse.SUPPRESS)  # JSON spec: run one, print JSON
    args = parser.parse_args()
    if args.configuration:
        print(json.dumps(run_configuration(json.loads(args.configuration))))
        return

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {torch.get_num_threads()} CPU threads")
    shape = f"{args.batch} x 3 x {args.frames} x {args.size} x {args.size}"
    print(f"input {shape}, {args.warmup} warmup + {args.steps} timed steps per configuration")
    impls = [("torchvision", False), ("hfvid", False)]
    diffs = {arch: channels_last_max_diff(arch, args.frames, args.size) for arch in ARCHS}
    for arch, diff in diffs.items():
        print(f"{arch}: hfvid channels_last_3d vs torchvision, pooled max abs diff {diff:.2e}")
    if max(diffs.values()) < TOLERANCE:
        impls.append(("hfvid", True))
    else:
        print(f"channels_last_3d left out: outputs differ by more than {TOLERANCE:g}")

    columns = ["device", "dtype", "arch", "model", "clips/s", "median ms", "best ms", "cpu ms", "peak MiB", "train MiB"]
    row = "{:6} {:8} {:11} {:24} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>6}"
    print(row.format(*columns, "vs tv"))
    for device, dtype, arch in itertools.product(devices, ("float32", "bfloat16"), ARCHS):
        reference = None
        for impl, channels_last in impls:
            spec = {key: getattr(args, key) for key in ("batch", "frames", "size", "steps", "warmup")}
            spec.update(device=device, dtype=dtype, arch=arch, impl=impl, channels_last=channels_last)
            command = [sys.executable, __file__, "--configuration", json.dumps(spec)]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            reference = reference or result["clips_per_s"]
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

if __name__ == "__main__":
    main()
