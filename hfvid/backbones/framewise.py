"""A frame-wise causal video network, pipelined over depth (Malinowski, Patraucean et al., "Sideways: Depth-Parallel
Training of Video Models", CVPR 2020): a 2D ResNet-18-style stack whose units (the stem and each basic block) each
take one frame's activation per time step from the unit below, one time step late.

At time step t, unit 0 (the stem) takes frame t, and unit l >= 1 takes the sum of its sources' outputs at step t - 1:
the unit below (l - 1) and, with ``temporal_skips`` (Skip-Sideways), also unit l - 2 where the shapes match (within a
stage). So the top unit's output at step t has seen frame t - (L - 1) through the whole stack (``delay`` = L - 1 for
L units), and with skips also the newer frames that came up the short paths. Every unit's state starts at zero.

Three ways to run the same function:

- `FramewiseResNet.forward`: unit by unit over the whole clip, each unit on every time step at once (its input is
  its sources' outputs shifted by one step). Standard backpropagation through time gives the exact gradient; memory
  grows with the clip length. This is also whole-clip inference.
- `FramewiseStream`: one frame at a time, each unit once per frame, keeping only each unit's last output (pipelined
  inference; the output lags the input by ``delay`` frames).
- `sideways_gradients`: Sideways training. Time step by time step, every unit computes forward on its input and,
  at the same step, backward with the gradient its consumers computed at the previous step, against its current
  activation (not the one that produced the gradient: that one is overwritten). Only one step's activations exist
  at a time, so memory does not grow with the clip; the parameter gradients are summed over the clip. With a static
  input (the same frame throughout) every activation is constant once the pipeline is full, so each step's
  gradient is then exactly backpropagation's for one frame (tested).

The output of the top unit (``last_hidden_state``) covers the steps from ``delay`` on, where a real frame has
reached it; ``pooler_output`` is its mean over those steps and space. A clip needs more than ``delay`` frames.
Group normalisation (not batch norm) keeps every frame's computation independent of the batch and of time. This file
imports only torch, transformers and the standard library: it is copied into saved model folders as remote code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

from hfvid.backbones.base import VideoBackbone, VideoBackboneOutput, given_config

FRAMEWISE_PRESETS: dict[str, dict[str, Any]] = {
    "framewise_r18": {
        "arch": "framewise",
        "in_channels": 3,
        "layers": [2, 2, 2, 2],
        "widths": [64, 128, 256, 512],
        "stem_width": 64,
        "stem_stride": 2,
        "temporal_skips": False,
        "gradient_mode": "bptt",
    },
    "framewise_tiny": {
        "arch": "framewise",
        "in_channels": 3,
        "layers": [2, 2, 2, 2],
        "widths": [8, 16, 32, 64],
        "stem_width": 8,
        "stem_stride": 1,
        "temporal_skips": False,
        "gradient_mode": "bptt",
    },
}


def framewise_config(name_or_dict: str | dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A preset name or (possibly partial) config dict -> the complete, validated config (missing keys from
    ``framewise_r18``)."""
    config = {**FRAMEWISE_PRESETS["framewise_r18"], **given_config(name_or_dict, FRAMEWISE_PRESETS, **overrides)}
    unknown = sorted(set(config) - set(FRAMEWISE_PRESETS["framewise_r18"]))
    if unknown:
        raise ValueError(f"unknown framewise backbone keys {unknown}; valid: {sorted(FRAMEWISE_PRESETS['framewise_r18'])}")
    if config["arch"] != "framewise":
        raise ValueError(f"arch must be 'framewise', got {config['arch']!r}")
    layers, widths = config["layers"], config["widths"]
    if len(layers) != len(widths) or not layers or not all(isinstance(v, int) and v > 0 for v in [*layers, *widths]):
        raise ValueError(f"layers and widths must be lists of positive ints of one length, got {layers} and {widths}")
    if config["stem_stride"] not in (1, 2):
        raise ValueError(f"stem_stride must be 1 or 2, got {config['stem_stride']}")
    if not isinstance(config["temporal_skips"], bool):
        raise ValueError(f"temporal_skips must be true or false, got {config['temporal_skips']!r}")
    if config["gradient_mode"] not in ("bptt", "sideways"):
        raise ValueError(f"gradient_mode must be 'bptt' or 'sideways', got {config['gradient_mode']!r}")
    return config


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class FramewiseStem(nn.Module):
    """Conv 3x3 (stride 1) or 7x7 (stride 2, then a 3x3 max-pool, as ResNet-18) - norm - ReLU, on single frames."""

    def __init__(self, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        kernel = 3 if stride == 1 else 7
        self.conv = nn.Conv2d(in_channels, width, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.norm = _norm(width)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1) if stride == 2 else nn.Identity()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.pool(F.relu(self.norm(self.conv(frames))))


class FramewiseBasicBlock(nn.Module):
    """ResNet's basic block on single frames: two 3x3 convs with norms, a residual (1x1 conv where the shape
    changes). One pipeline unit."""

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)
        self.norm1 = _norm(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, padding=1, bias=False)
        self.norm2 = _norm(out_planes)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), _norm(out_planes))
            if stride != 1 or in_planes != out_planes
            else nn.Identity()
        )
        self.stride = stride

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.norm1(self.conv1(hidden_states)))
        return F.relu(self.norm2(self.conv2(out)) + self.shortcut(hidden_states))


class FramewiseResNet(VideoBackbone):
    """The frame-wise causal ResNet, pipelined over depth (see the module docstring). ``units``: the stem, then every
    basic block; ``sources[l]``: the units whose previous-step outputs unit l sums as its input."""

    ARCHS = ("framewise",)
    PRESETS = FRAMEWISE_PRESETS

    def __init__(self, config: str | dict[str, Any]) -> None:
        super().__init__()
        self.config = framewise_config(config)
        c = self.config
        units: list[nn.Module] = [FramewiseStem(c["in_channels"], c["stem_width"], c["stem_stride"])]
        channels = [c["stem_width"]]
        for stage, (depth, width) in enumerate(zip(c["layers"], c["widths"])):
            for block in range(depth):
                stride = 2 if stage > 0 and block == 0 else 1
                units.append(FramewiseBasicBlock(channels[-1], width, stride))
                channels.append(width)
        self.units = nn.ModuleList(units)
        # Unit l sums the outputs of l - 1 and, with temporal skips, of l - 2 where unit l - 1 keeps the shape.
        self.sources: tuple[tuple[int, ...], ...] = tuple(
            () if index == 0
            else (index - 1, index - 2)
            if c["temporal_skips"] and index >= 2 and channels[index - 2] == channels[index - 1] and units[index - 1].stride == 1
            else (index - 1,)
            for index in range(len(units))
        )
        self.num_features = channels[-1]
        self.hidden_sizes = tuple(channels)
        for module in self.modules():
            self.init_module(module)

    @property
    def delay(self) -> int:
        """Time steps between a frame entering the stem and its activation leaving the top unit."""
        return len(self.units) - 1

    @classmethod
    def complete_config(cls, given: dict[str, Any]) -> dict[str, Any]:
        return framewise_config(given)

    @classmethod
    def init_module(cls, module: nn.Module) -> bool:
        """He (fan-out) for convolutions, identity for group norms."""
        if isinstance(module, nn.Conv2d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.GroupNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        else:
            return False
        return True

    def describe(self) -> str:
        skips = ", temporal skip connections (Skip-Sideways)" if self.config["temporal_skips"] else ""
        return (
            f"frame-wise causal 2D ResNet pipelined over depth, {len(self.config['layers'])} stages of "
            f"{self.config['layers']} basic blocks, widths {self.config['widths']}{skips}; {len(self.units)} units, "
            f"output {self.delay} frames behind the input"
        )

    def check_frames(self, pixel_values_videos: torch.Tensor) -> None:
        channels = self.config["in_channels"]
        if pixel_values_videos.ndim != 5 or pixel_values_videos.shape[2] != channels:
            raise ValueError(
                f"expected pixel_values_videos (batch, frames, {channels} channels, height, width), "
                f"got {tuple(pixel_values_videos.shape)}"
            )
        if pixel_values_videos.shape[1] <= self.delay:
            raise ValueError(
                f"this frame-wise network's output lags its input by {self.delay} frames, so a clip needs at least "
                f"{self.delay + 1} frames; got {pixel_values_videos.shape[1]}"
            )

    def unit_outputs(self, pixel_values_videos: torch.Tensor) -> list[torch.Tensor]:
        """Every unit's output at every time step, (batch, channels, frames, h, w) each, computed unit by unit over
        the whole clip (each unit's input is its sources' outputs one step earlier, zero at the first step). The
        returned tensors are the ones the next units compute from, so gradients reach them."""
        batch, frames = pixel_values_videos.shape[:2]
        outputs: list[torch.Tensor] = []
        for index, unit in enumerate(self.units):
            if index == 0:
                inputs = pixel_values_videos
            else:
                summed = sum(outputs[source].transpose(1, 2) for source in self.sources[index])
                inputs = F.pad(summed[:, :-1], (0, 0, 0, 0, 0, 0, 1, 0))  # shifted one step later, zeros first
            out = unit(inputs.flatten(0, 1))
            outputs.append(out.unflatten(0, (batch, frames)).transpose(1, 2))
        return outputs

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        attn_implementation: str | None = None,
    ) -> VideoBackboneOutput:
        """(batch, frames, channels, height, width) -> ``last_hidden_state`` (batch, num_features, frames - delay,
        h, w): the top unit's output from step ``delay`` on; ``pooler_output``: its mean; with
        ``output_hidden_states``, every unit's output at every step as (batch, channels, frames, h, w).

        With ``gradient_mode="sideways"``, in training mode with gradients enabled, only ``pooler_output`` is given
        (`SidewaysPooledFeatures`: computed frame by frame, its gradient by Sideways), so that any method whose loss
        reads the pooled clip features trains this backbone with Sideways; ``last_hidden_state`` is None then
        (methods that read the feature map need ``gradient_mode="bptt"``)."""
        self.check_frames(pixel_values_videos)
        if self.config["gradient_mode"] == "sideways" and self.training and torch.is_grad_enabled():
            parameters = [p for p in self.parameters() if p.requires_grad]
            pooled = SidewaysPooledFeatures.apply(pixel_values_videos, self, *parameters)
            return VideoBackboneOutput(last_hidden_state=None, pooler_output=pooled)
        outputs = self.unit_outputs(pixel_values_videos)
        top = outputs[-1][:, :, self.delay :]
        return VideoBackboneOutput(
            last_hidden_state=top,
            pooler_output=top.mean(dim=(2, 3, 4)),
            hidden_states=tuple(outputs) if output_hidden_states else None,
        )


class FramewiseStream:
    """Pipelined inference: ``stream(frame)`` takes one frame (batch, channels, height, width), runs every unit once
    (each on its sources' outputs from the previous call) and returns the top unit's spatially pooled output
    (batch, num_features): the features of the frame ``delay`` calls ago, or None until the first frame has got
    through (``delay`` calls). The outputs equal `FramewiseResNet.forward`'s, step by step (tested)."""

    def __init__(self, backbone: FramewiseResNet):
        self.backbone = backbone
        self.previous: list[torch.Tensor] | None = None
        self.steps = 0

    @property
    def latency(self) -> int:
        """Frames of delay between a frame going in and its features coming out."""
        return self.backbone.delay

    @torch.no_grad()
    def __call__(self, frame: torch.Tensor) -> torch.Tensor | None:
        outputs = []
        for index, unit in enumerate(self.backbone.units):
            if index == 0:
                inputs = frame
            elif self.previous is None:
                inputs = torch.zeros_like(outputs[index - 1])  # the first step: every state is zero
            else:
                inputs = sum(self.previous[source] for source in self.backbone.sources[index])
            outputs.append(unit(inputs))
        self.previous = outputs
        self.steps += 1
        return outputs[-1].mean(dim=(2, 3)) if self.steps > self.latency else None


def sideways_gradients(
    backbone: FramewiseResNet,
    pixel_values_videos: torch.Tensor,
    top_loss: Callable[[torch.Tensor, int], torch.Tensor | None],
    parameters: Sequence[nn.Parameter],
    exchange: DepthParallelExchange | None = None,
) -> tuple[torch.Tensor, int, list[torch.Tensor]]:
    """Sideways' approximate gradients over one clip (see the module docstring), with only one time step's
    activations alive at a time.

    ``top_loss(top_output, step)``: the loss at a time step from the top unit's output (batch, channels, h, w), or
    None (no loss at that step); steps before ``backbone.delay`` hold no frame at the top and get no loss.
    ``parameters``: what to differentiate (the backbone's and those ``top_loss`` uses, e.g. a classifier's).
    ``exchange``: for depth parallelism, this process's share of the units and the link to the others
    (`DepthParallelExchange`); by default this process runs every unit.
    Returns (the summed loss, the number of steps with a loss, each parameter's summed gradient). Gradients still
    travelling down when the clip ends are dropped, as when a stream is cut: a unit k units below the top gets
    gradients from the losses of the first ``frames - delay - k`` such steps.
    """
    backbone.check_frames(pixel_values_videos)
    owned = exchange.units if exchange is not None else range(len(backbone.units))
    shapes = unit_output_shapes(backbone, pixel_values_videos[:, 0])
    parameters = list(parameters)
    sums = [torch.zeros_like(p) for p in parameters]
    total, counted = pixel_values_videos.new_zeros(()), 0
    # The previous step's output of every unit this process's units read (all zero before the first step), and the
    # gradients that arrived for its units' outputs (one step late).
    needed = sorted({source for index in owned for source in backbone.sources[index]} | set(owned))
    previous = {index: pixel_values_videos.new_zeros(shapes[index]) for index in needed}
    incoming: dict[int, torch.Tensor] = {}
    for step in range(pixel_values_videos.shape[1]):
        loss_at = (lambda top, step=step: top_loss(top, step)) if step >= backbone.delay else None
        frame = pixel_values_videos[:, step]
        loss, grads, arriving, outputs = _sideways_step(backbone, frame, previous, incoming, loss_at, parameters, owned)
        for accumulated, grad in zip(sums, grads):
            if grad is not None:
                accumulated.add_(grad)
        if loss is not None:
            total, counted = total + loss, counted + 1
        previous.update(outputs)
        incoming = {index: grad for index, grad in arriving.items() if index in owned}
        if exchange is not None:
            foreign_outputs, foreign_grads = exchange(outputs, arriving, previous, shapes)
            previous.update(foreign_outputs)
            for index, grad in foreign_grads.items():
                incoming[index] = grad if index not in incoming else incoming[index] + grad
    return total, counted, sums


def unit_output_shapes(backbone: FramewiseResNet, frame: torch.Tensor) -> list[torch.Size]:
    """Each unit's output shape for frames like ``frame`` (batch, C, H, W), from one pass without gradients."""
    shapes, hidden = [], frame
    with torch.no_grad():
        for unit in backbone.units:
            hidden = unit(hidden)
            shapes.append(hidden.shape)
    return shapes


def _sideways_step(backbone, frame, previous, incoming, top_loss, parameters, owned):
    """One time step of Sideways for the ``owned`` units: each one's forward on its sources' previous outputs and
    backward with the gradient that arrived for its output (and the loss's), in one ``autograd.grad`` call (the
    units' graphs are disjoint: their inputs are fresh leaves). Returns (the step's loss or None, the parameters'
    gradients, {source unit: gradient for its output, for the next step}, {owned unit: its output, detached}). Its
    graph is gone when it returns, so only one step's activations ever exist."""
    units, sources = backbone.units, backbone.sources
    inputs, outputs = {}, {}
    with torch.enable_grad():
        for index in owned:
            x = frame if index == 0 else sum(previous[source] for source in sources[index]).requires_grad_()
            inputs[index] = x
            outputs[index] = units[index](x)
        roots = [(outputs[index], incoming[index]) for index in owned if index in incoming]
        loss = top_loss(outputs[len(units) - 1]) if top_loss is not None and len(units) - 1 in owned else None
        if loss is not None:
            roots.append((loss, torch.ones_like(loss)))
        reading = [index for index in owned if index > 0]
        wanted = [*parameters, *(inputs[index] for index in reading)]
        if roots:
            roots_out, roots_grad = zip(*roots)
            grads = torch.autograd.grad(roots_out, wanted, grad_outputs=roots_grad, allow_unused=True)
        else:
            grads = (None,) * len(wanted)
    # Each unit's input gradient goes to its sources, for the next step.
    arriving: dict[int, torch.Tensor] = {}
    for index, grad in zip(reading, grads[len(parameters) :]):
        for source in sources[index] if grad is not None else ():
            arriving[source] = grad if source not in arriving else arriving[source] + grad
    loss = None if loss is None else loss.detach()
    return loss, grads[: len(parameters)], arriving, {index: out.detach() for index, out in outputs.items()}


class DepthParallelExchange:
    """Depth parallelism for `sideways_gradients`: this process runs ``units`` (a contiguous range), the other
    processes of the default `torch.distributed` group the rest (``splits``: the first unit of each rank's share,
    rank 0 first). After every time step each process sends the outputs that units on other processes read, and the
    gradients for other processes' units' outputs, and receives theirs, all at once; so every unit computes at every
    step, as in one process, and the gradients are the same (tested with 2 processes over gloo)."""

    def __init__(self, backbone: FramewiseResNet, splits: Sequence[int]):
        import torch.distributed as dist

        self.dist = dist
        self.rank, world = dist.get_rank(), dist.get_world_size()
        bounds = [*splits, len(backbone.units)]
        if len(splits) != world or splits[0] != 0 or any(a >= b for a, b in zip(bounds, bounds[1:])):
            raise ValueError(f"splits must give each of the {world} processes a non-empty range of units from 0, got {list(splits)}")
        self.owner = {index: rank for rank, (a, b) in enumerate(zip(bounds, bounds[1:])) for index in range(a, b)}
        self.units = range(bounds[self.rank], bounds[self.rank + 1])
        sources = backbone.sources
        # (unit whose output, the process that reads it): the outputs each process sends and receives.
        self.reads = sorted({(s, self.owner[i]) for i in range(len(sources)) for s in sources[i] if self.owner[s] != self.owner[i]})

    def __call__(self, outputs, arriving, previous, shapes):
        """Send this step's outputs and gradients that other processes need; return what they sent
        ({unit: output}, {unit: gradient for its output})."""
        dist, rank, ops = self.dist, self.rank, []
        received_outputs, grads_back = {}, []
        for source, reader in self.reads:
            if self.owner[source] == rank:  # our output, read there; its gradient comes back (zeros: none yet)
                ops.append(dist.P2POp(dist.isend, outputs[source].contiguous(), reader, tag=2 * source))
                grads_back.append((source, torch.empty(shapes[source], dtype=outputs[source].dtype)))
                ops.append(dist.P2POp(dist.irecv, grads_back[-1][1], reader, tag=2 * source + 1))
            elif reader == rank:  # their output, read here; our gradient for it goes back
                received_outputs[source] = torch.empty_like(previous[source])
                ops.append(dist.P2POp(dist.irecv, received_outputs[source], self.owner[source], tag=2 * source))
                grad = arriving.get(source)
                grad = torch.zeros_like(previous[source]) if grad is None else grad.contiguous()
                ops.append(dist.P2POp(dist.isend, grad, self.owner[source], tag=2 * source + 1))
        for request in dist.batch_isend_irecv(ops) if ops else ():
            request.wait()
        received_grads = {}
        for source, grad in grads_back:  # readers in rank order, as one process sums its units' gradients
            received_grads[source] = grad if source not in received_grads else received_grads[source] + grad
        return received_outputs, received_grads


class SidewaysPooledFeatures(torch.autograd.Function):
    """``apply(clips, backbone, *parameters)`` -> the backbone's ``pooler_output`` (the mean over the steps with a
    frame at the top of the top unit's spatially pooled output), computed frame by frame without storing
    activations; its backward runs Sideways (`sideways_gradients`) with, at every such step, the top's gradient that
    the mean gives it (``grad_output / steps``), and hands the parameters their summed gradients. A per-clip loss on the
    pooled features thus trains the backbone with Sideways: two passes over the clip, memory flat in its length."""

    @staticmethod
    def forward(ctx, clips, backbone, *parameters):
        stream, pooled = FramewiseStream(backbone), []
        for step in range(clips.shape[1]):
            out = stream(clips[:, step])
            if out is not None:
                pooled.append(out)
        ctx.backbone, ctx.parameters = backbone, parameters
        ctx.save_for_backward(clips)
        return torch.stack(pooled).mean(dim=0)

    @staticmethod
    def backward(ctx, grad_output):
        (clips,) = ctx.saved_tensors
        steps = clips.shape[1] - ctx.backbone.delay

        def top_loss(top, step):
            return (top.mean(dim=(-2, -1)) * grad_output).sum() / steps

        _, _, gradients = sideways_gradients(ctx.backbone, clips, top_loss, ctx.parameters)
        return (None, None, *gradients)


class PrecomputedGradients(torch.autograd.Function):
    """A loss value whose gradient with respect to ``parameters`` is given: ``apply(value, n, *parameters,
    *gradients)``. Backward hands ``grad_output * gradient`` to each parameter, so the usual ``loss.backward()`` (any
    training loop, gradient accumulation, loss scaling, DDP's gradient hooks) applies gradients computed elsewhere
    (Sideways' pipelined ones)."""

    @staticmethod
    def forward(ctx, value: torch.Tensor, count: int, *parameters_and_gradients: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(*parameters_and_gradients[count:])
        return value.detach().clone()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        gradients = ctx.saved_tensors
        return (None, None, *(grad_output * gradient for gradient in gradients), *(None for _ in gradients))
