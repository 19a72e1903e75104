"""Sideways video models: a frame-wise causal network pipelined over depth (`hfvid.backbones.framewise`), as a
backbone (`SidewaysModel`, what `AutoModel` returns) and as a video classifier trained by backpropagation through
time or by Sideways / Skip-Sideways (`SidewaysForVideoClassification`, ``config.training_mode``).

The classifier scores every time step at which a frame has reached the top unit (a linear layer on that step's
spatially pooled features); its loss is the mean over those steps of the per-step loss with the clip's label, and
its logits the mean of the per-step logits. In Sideways mode a training forward (model in training mode, labels
given, gradients enabled) computes the pipelined gradients step by step inside ``forward`` and returns a loss whose
``backward()`` hands exactly those gradients to the parameters (`hfvid.backbones.framewise.PrecomputedGradients`), so
`Trainer`, gradient accumulation, mixed precision's loss scaling and DDP work unchanged. Evaluation and inference run
the whole clip at once in every mode; `SidewaysForVideoClassification.stream` gives frame-by-frame predictions.
"""

from __future__ import annotations

import torch
from transformers.modeling_outputs import ImageClassifierOutput

from hfvid.backbones.framewise import FramewiseStream, PrecomputedGradients, sideways_gradients
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    check_video_input,
)

from .configuration_sideways import SidewaysConfig


class SidewaysPreTrainedModel(HfvidPreTrainedModel):
    config: SidewaysConfig
    config_class = SidewaysConfig
    base_model_prefix = "sideways"
    supports_gradient_checkpointing = False


class SidewaysModel(SidewaysPreTrainedModel, HfvidBackboneModel):
    """The frame-wise backbone alone: video -> features (``last_hidden_state`` (batch, hidden, frames - delay, h, w),
    ``pooler_output`` its mean). This is what `AutoModel` returns."""


class SidewaysForVideoClassification(SidewaysPreTrainedModel, HfvidForVideoClassification):
    """Frame-wise backbone + dropout + linear classifier per time step; trained as ``config.training_mode`` says."""

    backbone_model_class = SidewaysModel

    def frame_logits(self, top: torch.Tensor) -> torch.Tensor:
        """Logits of one time step's top-unit output (batch, hidden, h, w) -> (batch, num_labels)."""
        return self.classifier(self.dropout(top.mean(dim=(-2, -1))))

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, frames, channels, height, width); `labels` (batch,) class indices, or
        (batch, num_labels) targets for multi-label classification and regression. ``loss``: the mean over the time
        steps with a frame at the top of the per-step loss; ``logits``: the mean of the per-step logits."""
        check_video_input(pixel_values_videos)
        if self.config.training_mode == "sideways" and self.training and labels is not None and torch.is_grad_enabled():
            output = self._sideways_forward(pixel_values_videos, labels)
        else:
            features = self.base_model(pixel_values_videos, output_hidden_states=output_hidden_states)
            top = features.last_hidden_state.transpose(1, 2)  # (batch, steps, hidden, h, w)
            step_logits = self.frame_logits(top.flatten(0, 1)).unflatten(0, top.shape[:2])
            loss = None
            if labels is not None:
                repeated = labels.repeat_interleave(step_logits.shape[1], dim=0)
                loss = self.loss_function(repeated, step_logits.flatten(0, 1), self.config)
            output = ImageClassifierOutput(loss=loss, logits=step_logits.mean(dim=1), hidden_states=features.hidden_states)
        return output.to_tuple() if return_dict is False else output

    def _sideways_forward(self, pixel_values_videos: torch.Tensor, labels: torch.Tensor) -> ImageClassifierOutput:
        """Sideways' pipelined gradients over the clip, carried by the returned loss (see the module docstring)."""
        step_logits = []

        def top_loss(top: torch.Tensor, step: int) -> torch.Tensor:
            logits = self.frame_logits(top)
            step_logits.append(logits.detach())
            return self.loss_function(labels, logits, self.config)

        parameters = [parameter for parameter in self.parameters() if parameter.requires_grad]
        total, count, gradients = sideways_gradients(self.base_model.backbone, pixel_values_videos, top_loss, parameters)
        loss = PrecomputedGradients.apply(total / count, len(parameters), *parameters, *(g / count for g in gradients))
        return ImageClassifierOutput(loss=loss, logits=torch.stack(step_logits, dim=1).mean(dim=1))

    def stream(self) -> "SidewaysPredictionStream":
        """Pipelined inference, one frame at a time: ``stream = model.stream(); stream(frame)`` -> logits of the
        frame ``stream.latency`` frames back (None before the first has got through)."""
        return SidewaysPredictionStream(self)


class SidewaysPredictionStream:
    """Frame-by-frame prediction of a `SidewaysForVideoClassification` (see `hfvid.backbones.framewise.FramewiseStream`):
    ``__call__(frame (batch, C, H, W))`` -> (batch, num_labels) logits of the frame ``latency`` frames back, or None;
    ``mean_logits``: the mean of the logits so far (the whole-clip prediction once the clip has been streamed)."""

    def __init__(self, model: SidewaysForVideoClassification):
        self.model = model
        self.features = FramewiseStream(model.base_model.backbone)
        self.logits: list[torch.Tensor] = []

    @property
    def latency(self) -> int:
        return self.features.latency

    @torch.no_grad()
    def __call__(self, frame: torch.Tensor) -> torch.Tensor | None:
        pooled = self.features(frame)
        if pooled is None:
            return None
        self.logits.append(self.model.classifier(pooled))
        return self.logits[-1]

    @property
    def mean_logits(self) -> torch.Tensor | None:
        return torch.stack(self.logits).mean(dim=0) if self.logits else None


AUTO_CLASSES = {
    "AutoConfig": SidewaysConfig,
    "AutoModel": SidewaysModel,
    "AutoModelForVideoClassification": SidewaysForVideoClassification,
}
