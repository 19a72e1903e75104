"""Sideways and Skip-Sideways: the frame-wise pipelined backbone (whole clip, streamed, Sideways gradients), the
relation of Sideways' gradients to backpropagation's, the memory bound, and the classifier through Trainer."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import run_without_hfvid

import hfvid
from hfvid.backbones.framewise import FRAMEWISE_PRESETS, FramewiseStream, PrecomputedGradients, sideways_gradients
from hfvid.backbones.registry import build_backbone
from hfvid.models.sideways import SidewaysConfig, SidewaysForVideoClassification

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import finetune  # noqa: E402

SMALL = {**FRAMEWISE_PRESETS["framewise_tiny"], "layers": [2, 2], "widths": [4, 8], "stem_width": 4}


def small_backbone(temporal_skips: bool, dtype=torch.float32):
    torch.manual_seed(0)
    return build_backbone({**SMALL, "temporal_skips": temporal_skips}).to(dtype)


def test_presets_configs_and_clear_errors():
    assert {f"{mode}-{size}" for mode in ("bptt", "sideways", "skip-sideways") for size in ("framewise18", "framewise-tiny")} <= set(hfvid.list_configs())
    assert hfvid.get_config("skip-sideways-framewise-tiny").method_name == "Skip-Sideways"
    assert hfvid.get_config("sideways-framewise-tiny").method_name == "Sideways"
    assert hfvid.get_config("bptt-framewise-tiny").training_mode == "bptt"
    with pytest.raises(ValueError, match="training_mode must be one of"):
        SidewaysConfig(training_mode="forward")
    with pytest.raises(ValueError, match="needs a frame-wise backbone"):
        SidewaysConfig(backbone="r3d_tiny")
    with pytest.raises(ValueError, match="no self-supervised pre-training objective: train it with labels"):
        hfvid.presets.load_for_pretraining("sideways-framewise-tiny")
    backbone = small_backbone(temporal_skips=False)
    with pytest.raises(ValueError, match="lags its input by 4 frames, so a clip needs at least 5 frames; got 4"):
        backbone(torch.zeros(1, 4, 3, 16, 16))


def test_temporal_skips_join_units_of_one_shape_only():
    plain, skips = small_backbone(False), small_backbone(True)
    assert plain.sources == ((), (0,), (1,), (2,), (3,)) and plain.delay == 4
    # stem (4) -> block (4) -> block (4) -> block (8, stride 2) -> block (8): skips where the unit in between keeps the shape
    assert skips.sources == ((), (0,), (1, 0), (2, 1), (3,))
    assert "temporal skip connections" in skips.describe() and "4 frames behind" in skips.describe()


@pytest.mark.parametrize("temporal_skips", [False, True])
def test_streaming_gives_the_whole_clip_outputs_step_by_step(temporal_skips):
    backbone = small_backbone(temporal_skips).eval()
    clip = torch.randn(2, 9, 3, 16, 16)
    with torch.no_grad():
        whole = backbone(clip).last_hidden_state.mean(dim=(3, 4))  # (batch, hidden, frames - delay)
    stream = FramewiseStream(backbone)
    streamed = [stream(clip[:, t]) for t in range(clip.shape[1])]
    assert stream.latency == 4 and all(out is None for out in streamed[:4])
    torch.testing.assert_close(torch.stack(streamed[4:], dim=2), whole, rtol=1e-5, atol=1e-6)


def test_without_skips_every_frame_goes_through_alone():
    """Without temporal skips the pipelined network is a per-frame 2D network: the top output at step t is frame t - delay's alone."""
    backbone = small_backbone(False).eval()
    clip = torch.randn(1, 7, 3, 16, 16)
    changed = clip.clone()
    changed[:, 1] = torch.randn(3, 16, 16)
    with torch.no_grad():
        a, b = backbone(clip).last_hidden_state, backbone(changed).last_hidden_state  # steps 4, 5, 6: frames 0, 1, 2
    torch.testing.assert_close(a[:, :, [0, 2]], b[:, :, [0, 2]])
    assert not torch.allclose(a[:, :, 1], b[:, :, 1])


@pytest.mark.parametrize("temporal_skips", [False, True])
def test_sideways_on_a_static_input_is_backpropagation_once_the_pipeline_is_full(temporal_skips):
    """The exact relation: with the same frame at every step, every activation is constant from step `delay` on and
    every gradient arriving from step 2 * delay on; from then each step adds exactly backpropagation's gradient of one
    step's loss (through the unrolled network, every path). So Sideways(T + n) - Sideways(T) = n x BPTT(one step)."""
    backbone = small_backbone(temporal_skips, torch.float64)
    head = torch.nn.Linear(8, 3).double()
    parameters = [*backbone.parameters(), *head.parameters()]
    frame, target = torch.randn(2, 1, 3, 16, 16, dtype=torch.float64), torch.tensor([0, 2])

    def top_loss(top, step):
        return F.cross_entropy(head(top.mean(dim=(2, 3))), target)

    length, extra = 2 * backbone.delay, 3
    _, counted, before = sideways_gradients(backbone, frame.expand(-1, length, -1, -1, -1), top_loss, parameters)
    _, _, after = sideways_gradients(backbone, frame.expand(-1, length + extra, -1, -1, -1), top_loss, parameters)
    assert counted == length - backbone.delay
    top = backbone.unit_outputs(frame.expand(-1, length, -1, -1, -1))[-1][:, :, -1]
    exact = torch.autograd.grad(top_loss(top, length - 1), parameters)
    for a, b, e in zip(after, before, exact):
        torch.testing.assert_close((a - b) / extra, e, rtol=1e-9, atol=1e-12)
        assert a.shape == e.shape


def test_sideways_differs_from_backpropagation_on_a_moving_input():
    backbone = small_backbone(False, torch.float64)
    head = torch.nn.Linear(8, 3).double()
    parameters = [*backbone.parameters(), *head.parameters()]
    clip, target = torch.randn(2, 12, 3, 16, 16, dtype=torch.float64), torch.tensor([0, 2])

    def top_loss(top, step):
        return F.cross_entropy(head(top.mean(dim=(2, 3))), target)

    total, counted, approx = sideways_gradients(backbone, clip, top_loss, parameters)
    tops = backbone(clip).last_hidden_state
    bptt_loss = sum(top_loss(tops[:, :, i], i) for i in range(tops.shape[2]))
    exact = torch.autograd.grad(bptt_loss, parameters)
    torch.testing.assert_close(total, bptt_loss.detach())  # the forward pass is the same function
    torch.testing.assert_close(approx[-1], exact[-1])  # the head sees its own activation: exact
    stem_weight = next(iter(backbone.parameters()))
    assert not torch.allclose(approx[0], exact[0]) and stem_weight.shape == approx[0].shape


class _Held:
    def __init__(self, tensor):
        self.tensor = tensor.detach()  # not the tensor itself: an op that saves its output would make a cycle


class SavedBytes:
    """Peak bytes held by autograd graphs for backward (tensors saved by forward ops), while the context is open."""

    def __init__(self):
        self.live = self.peak = 0

    def _pack(self, tensor):
        holder = _Held(tensor)
        self.live += tensor.numel() * tensor.element_size()
        self.peak = max(self.peak, self.live)
        weakref.finalize(holder, self._release, tensor.numel() * tensor.element_size())
        return holder

    def _release(self, size):
        self.live -= size

    def __enter__(self):
        self.hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda holder: holder.tensor)
        self.hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self.hooks.__exit__(*exc)


@pytest.mark.parametrize("temporal_skips", [False, True])
def test_memory_for_backward_is_flat_in_clip_length_with_sideways(temporal_skips):
    backbone = small_backbone(temporal_skips)
    head = torch.nn.Linear(8, 3)
    parameters = [*backbone.parameters(), *head.parameters()]
    target = torch.tensor([1])

    def top_loss(top, step):
        return F.cross_entropy(head(top.mean(dim=(2, 3))), target)

    peaks = {}
    for frames in (16, 64):
        clip = torch.randn(1, frames, 3, 16, 16)
        with SavedBytes() as sideways:
            sideways_gradients(backbone, clip, top_loss, parameters)
        with SavedBytes() as bptt:
            tops = backbone(clip).last_hidden_state
            loss = sum(top_loss(tops[:, :, i], i) for i in range(tops.shape[2]))
        loss.backward()
        peaks[frames] = sideways.peak, bptt.peak
    assert peaks[16][0] == peaks[64][0]  # Sideways: one step's activations, whatever the clip length
    assert peaks[64][1] > 3.5 * peaks[16][1]  # backpropagation through time: every step's
    assert peaks[64][0] < peaks[64][1] / 40


def test_the_classifier_trains_through_loss_backward_in_every_mode():
    clip, labels = torch.randn(2, 10, 3, 16, 16), torch.tensor([1, 2])
    config = SidewaysConfig(backbone={**SMALL, "temporal_skips": True}, num_frames=10, image_size=16, num_labels=3,
                            classifier_dropout=0.0)  # fmt: skip
    torch.manual_seed(0)
    model = SidewaysForVideoClassification(config).train()
    output = model(clip, labels=labels)
    (output.loss * 0.5).backward()  # scaled, as gradient accumulation and loss scaling do
    got = [p.grad.clone() for p in model.parameters()]

    parameters = list(model.parameters())
    total, counted, expected = sideways_gradients(
        model.base_model.backbone, clip, lambda top, step: model.loss_function(labels, model.frame_logits(top), config), parameters
    )
    torch.testing.assert_close(output.loss.detach(), total / counted)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, 0.5 * e / counted)
    assert output.logits.shape == (2, 3)

    bptt = SidewaysForVideoClassification(SidewaysConfig(**{**config.to_dict(), "training_mode": "bptt"})).train()
    bptt.load_state_dict(model.state_dict())
    bptt_output = bptt(clip, labels=labels)
    torch.testing.assert_close(bptt_output.loss, output.loss.detach())  # the same loss, exact gradients
    model.eval()
    with torch.no_grad():
        evaluated = model(clip, labels=labels)
    torch.testing.assert_close(evaluated.logits, bptt_output.logits.detach())


def test_precomputed_gradients_reach_the_parameters_as_given():
    weight = torch.nn.Parameter(torch.ones(3))
    loss = PrecomputedGradients.apply(torch.tensor(2.0), 1, weight, torch.tensor([1.0, 2.0, 3.0]))
    assert loss.item() == 2.0 and loss.requires_grad
    (3 * loss).backward()
    torch.testing.assert_close(weight.grad, torch.tensor([3.0, 6.0, 9.0]))


def test_streamed_predictions_match_the_whole_clip():
    config = SidewaysConfig(backbone=copy.deepcopy(SMALL), num_frames=9, image_size=16, num_labels=4)
    model = SidewaysForVideoClassification(config).eval()
    clip = torch.randn(2, 9, 3, 16, 16)
    stream = model.stream()
    outputs = [stream(clip[:, t]) for t in range(9)]
    assert stream.latency == 4 and outputs[3] is None and outputs[4].shape == (2, 4)
    with torch.no_grad():
        torch.testing.assert_close(stream.mean_logits, model(clip).logits, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_finetune_trains_skip_sideways_and_saves_a_model_that_loads(synthmotion_dir, tmp_path):
    out = tmp_path / "run"
    metrics = finetune.finetune(finetune.build_parser().parse_args(
        ["--model", "skip-sideways-framewise-tiny", "--dataset", synthmotion_dir, "--max_steps", "2",
         "--per_device_train_batch_size", "2", "--output_dir", str(out)]
    ))  # fmt: skip
    assert 0.0 <= metrics["eval_accuracy"] <= 1.0
    model = SidewaysForVideoClassification.from_pretrained(out)
    assert model.config.training_mode == "sideways" and model.config.backbone["temporal_skips"]
    assert json.loads((out / "config.json").read_text())["model_type"] == "sideways"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_depth_parallel_over_two_processes_matches_one_process_exactly(tmp_path):
    script = str(Path(__file__).parent / "sideways_depth_parallel.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for command in ([sys.executable, script, str(tmp_path)],
                    [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()), script, str(tmp_path)]):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
    single = torch.load(tmp_path / "grads-single.pt")
    lower, upper = torch.load(tmp_path / "grads-0.pt"), torch.load(tmp_path / "grads-1.pt")
    assert set(lower["grads"]) == {name for name in single["grads"] if name.startswith(("backbone.units.0.", "backbone.units.1."))}
    assert set(lower["grads"]) | set(upper["grads"]) == set(single["grads"]) and not set(lower["grads"]) & set(upper["grads"])
    for name, grad in {**lower["grads"], **upper["grads"]}.items():
        assert torch.equal(grad, single["grads"][name]), name
        assert grad.abs().sum() > 0, name  # every unit got gradients within the clip
    assert torch.equal(upper["loss"], single["loss"]) and upper["counted"] == single["counted"] == 12 - 4


def test_a_saved_classifier_loads_and_trains_with_its_own_code_without_hfvid(tmp_path):
    config = SidewaysConfig(backbone={**SMALL, "temporal_skips": True}, num_frames=6, image_size=16, num_labels=3)
    model = SidewaysForVideoClassification(config).eval()
    model.save_pretrained(tmp_path)
    clip = torch.randn(1, 6, 3, 16, 16)
    torch.save(clip, tmp_path / "clip.pt")
    with torch.no_grad():
        expected = model(clip).logits
    run_without_hfvid(
        f"""
        import torch
        from transformers import AutoModelForVideoClassification
        folder = {str(tmp_path)!r}
        model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
        clip = torch.load(folder + "/clip.pt")
        with torch.no_grad():
            torch.save(model(clip).logits, folder + "/logits.pt")
        model.train()
        model(clip, labels=torch.tensor([1])).loss.backward()  # Sideways' gradients through the folder's code
        assert all(p.grad is not None for p in model.parameters())
        """,
        tmp_path,
    )
    torch.testing.assert_close(torch.load(tmp_path / "logits.pt"), expected)


@pytest.mark.parametrize("preset", ["transrank-r3d18-tiny", "simclr-r3d18-tiny", "hdc-r3d18-tiny"])
def test_the_framewise_backbone_pre_trains_under_self_supervised_methods(preset):
    model, processor = hfvid.presets.load_for_pretraining(preset, backbone="framewise_tiny", num_frames=16)
    video, rng = torch.randint(0, 255, (48, 3, 40, 40), dtype=torch.uint8), np.random.default_rng(0)
    views = [processor.pretraining_views(video, rng) for _ in range(2)]
    output = model(**{name: torch.stack([v[name] for v in views]) for name in views[0]})
    output.loss.backward()
    assert torch.isfinite(output.loss) and model.base_model.backbone.units[0].conv.weight.grad is not None


def test_a_per_clip_loss_on_pooled_features_trains_the_backbone_with_sideways():
    """gradient_mode="sideways": pooler_output is computed frame by frame and its gradient propagated by Sideways. The
    top unit sees its exact gradient at every step, so its parameters get backpropagation's gradient exactly; the
    lower units get Sideways' approximation."""
    torch.manual_seed(0)
    sideways = build_backbone({**SMALL, "temporal_skips": True, "gradient_mode": "sideways"}).double().train()
    bptt = build_backbone({**SMALL, "temporal_skips": True}).double().train()
    bptt.load_state_dict(sideways.state_dict())
    clip, weights = torch.randn(2, 12, 3, 16, 16, dtype=torch.float64), torch.randn(2, 8, dtype=torch.float64)
    out = sideways(clip)
    assert out.last_hidden_state is None
    torch.testing.assert_close(out.pooler_output, bptt(clip).pooler_output)
    ((out.pooler_output * weights).sum() ** 2).backward()
    ((bptt(clip).pooler_output * weights).sum() ** 2).backward()
    for (name, a), b in zip(sideways.named_parameters(), bptt.parameters()):
        if name.startswith("units.4."):  # the top unit
            torch.testing.assert_close(a.grad, b.grad)
    assert not torch.allclose(sideways.units[0].conv.weight.grad, bptt.units[0].conv.weight.grad)
    assert all(p.grad.abs().sum() > 0 for p in sideways.parameters())
    sideways.eval()
    assert sideways(clip).last_hidden_state is not None  # evaluation: the whole clip, as in BPTT mode
    with pytest.raises(ValueError, match="leave the backbone's gradient_mode"):
        SidewaysConfig(backbone={**SMALL, "gradient_mode": "sideways"})


def test_per_clip_sideways_keeps_memory_flat_in_clip_length():
    backbone = build_backbone({**SMALL, "gradient_mode": "sideways"}).train()
    peaks = {}
    for frames in (16, 64):
        clip = torch.randn(1, frames, 3, 16, 16)
        with SavedBytes() as saved:
            backbone(clip).pooler_output.square().sum().backward()
        peaks[frames] = saved.peak - clip.numel() * clip.element_size()  # the clip itself is kept for the backward
    assert peaks[16] == peaks[64]


def test_transrank_pre_trains_the_framewise_backbone_with_sideways():
    model, processor = hfvid.presets.load_for_pretraining(
        "transrank-r3d18-tiny", backbone={**FRAMEWISE_PRESETS["framewise_tiny"], "gradient_mode": "sideways"}, num_frames=16
    )
    video, rng = torch.randint(0, 255, (48, 3, 40, 40), dtype=torch.uint8), np.random.default_rng(0)
    views = [processor.pretraining_views(video, rng) for _ in range(2)]
    output = model(**{name: torch.stack([v[name] for v in views]) for name in views[0]})
    output.loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)
