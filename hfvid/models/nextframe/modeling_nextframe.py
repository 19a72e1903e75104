"""Next-frame prediction: the backbone's pooled code of a clip must tell a one-frame decoder how the scene moves on.

Pre-training takes ``pixel_values_videos`` (batch, frames, channels, height, width) and ``next_frame_values``
(batch, channels, height, width), the frame after each clip. The backbone encodes the clip into its pooled feature
vector, the motion code; `FiLMFrameDecoder` gets the clip's last frame (and x, y coordinate channels) and the code,
which scales and shifts its hidden channels (FiLM, Perez et al. 2018), and predicts ``next - last``. The loss is the
mean squared error of that prediction. The decoder sees one frame, so everything about the motion (which way, how
fast, which way round a rotation turns) must come through the code: a task that speeds, arrows of time and
same-video pairs do not pose (docs/learning.md, session 14). The loss compares each video with itself only, so under
DDP nothing is gathered (BatchNorm statistics are per process).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init
from transformers.utils import ModelOutput

from hfvid.backbones.registry import init_backbone_module
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    check_video_input,
)

from .configuration_nextframe import NextFrameConfig


class FiLMFrameDecoder(nn.Module):
    """(frame (batch, C, H, W), code (batch, code_dim)) -> (batch, C, H, W): ``layers`` 3x3 convolutions over the frame
    and two coordinate channels, each one's output scaled by ``1 + s`` and shifted by ``b``, (s, b) a linear map of
    the code, then GELU; a last 3x3 convolution back to C channels. (With ReLU the benchmark's decoder died: its
    output stayed zero from the first steps.)"""

    def __init__(self, code_dim: int, channels: int = 3, width: int = 32, layers: int = 3):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(channels + 2 if i == 0 else width, width, 3, padding=1) for i in range(layers)
        )
        self.film = nn.Linear(code_dim, 2 * width * layers)
        self.output = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, frame: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = frame.shape
        axes = (torch.linspace(-1, 1, n, device=frame.device, dtype=frame.dtype) for n in (height, width))
        ys, xs = torch.meshgrid(*axes, indexing="ij")
        hidden = torch.cat([frame, xs.expand(batch, 1, -1, -1), ys.expand(batch, 1, -1, -1)], dim=1)
        films = self.film(code).to(frame.dtype)[..., None, None].chunk(2 * len(self.convs), dim=1)
        for index, conv in enumerate(self.convs):
            hidden = F.gelu(conv(hidden) * (1 + films[2 * index]) + films[2 * index + 1])
        return self.output(hidden)


@dataclass
class NextFrameForPreTrainingOutput(ModelOutput):
    """Output of `NextFrameForPreTraining`.

    Args:
        loss: mean squared error of the predicted ``next - last`` frame difference (in the processor's normalised
            pixel units).
        errors: per video, ``{"prediction": (batch,), "no_change": (batch,)}``: the mean squared error of the
            prediction and that of predicting no change (zero difference). Their ratio is what the code tells the
            decoder: 1 means nothing.
        predictions: (batch, C, H, W) the predicted next frames (last frame + predicted difference).
        pooler_output: (batch, hidden) the backbone's code of each clip.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps.
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights.
    """

    loss: torch.FloatTensor | None = None
    errors: dict[str, torch.Tensor] | None = None
    predictions: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class NextFramePreTrainedModel(HfvidPreTrainedModel):
    config: NextFrameConfig
    config_class = NextFrameConfig
    base_model_prefix = "nextframe"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the decoder out.
    _keys_to_ignore_on_load_unexpected = [r"^decoder\."]

    def _init_weights(self, module):
        """hfvid's initialisation; the decoder's 2-D convolutions as PyTorch initialises them (the benchmark's)."""
        if init_backbone_module(module):  # a backbone's modules (a frame-wise backbone's 2-D convolutions too)
            return
        if isinstance(module, nn.Conv2d):
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            bound = 1 / math.sqrt(module.weight[0].numel())
            init.uniform_(module.bias, -bound, bound)
        else:
            super()._init_weights(module)


class NextFrameModel(NextFramePreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class NextFrameForPreTraining(NextFramePreTrainedModel):
    """Backbone (the clip's code) + `FiLMFrameDecoder` (last frame + code -> next frame's difference)."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: NextFrameConfig):
        super().__init__(config)
        self.nextframe = NextFrameModel(config)
        self.decoder = FiLMFrameDecoder(
            self.nextframe.backbone.num_features, width=config.decoder_width, layers=config.decoder_layers
        )
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        next_frame_values: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, frames, C, H, W); next_frame_values: (batch, C, H, W), the frame after each
        clip (as `NextFrameVideoProcessor` makes them)."""
        check_video_input(pixel_values_videos)
        last = pixel_values_videos[:, -1]
        if next_frame_values.shape != last.shape:
            raise ValueError(
                f"next_frame_values must be one frame per clip, (batch, channels, height, width) = {tuple(last.shape)}, "
                f"got {tuple(next_frame_values.shape)}"
            )
        features = self.nextframe(
            pixel_values_videos, output_hidden_states=output_hidden_states, output_attentions=output_attentions
        )
        difference = self.decoder(last, features.pooler_output)
        target = (next_frame_values - last).to(difference.dtype)
        errors = {
            "prediction": (difference - target).pow(2).flatten(1).mean(1),
            "no_change": target.pow(2).flatten(1).mean(1),
        }
        output = NextFrameForPreTrainingOutput(
            loss=errors["prediction"].mean(),
            errors={name: error.detach() for name, error in errors.items()},
            predictions=last + difference,
            pooler_output=features.pooler_output,
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class NextFrameForVideoClassification(NextFramePreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = NextFrameModel


AUTO_CLASSES = {
    "AutoConfig": NextFrameConfig,
    "AutoModel": NextFrameModel,
    "AutoModelForPreTraining": NextFrameForPreTraining,
    "AutoModelForVideoClassification": NextFrameForVideoClassification,
}
