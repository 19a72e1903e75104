"""LSFD (long and short view feature decomposition, Behrmann et al., ICCV 2021): features split into a stationary and a
non-stationary part, learnt from a long view of a video and the short views that tile it.

Pre-training takes (batch, 1 + K, frames, C, H, W): the long view, then the K short views in temporal order. One
backbone pass encodes them all; `LSFDModel`'s two heads give each view a stationary and a non-stationary embedding.
Stationary term: each short view's stationary embedding must pick its video's long-view stationary embedding among
the global batch's. Non-stationary term: an aggregator of the K short views' non-stationary embeddings (in order)
must pick its video's long-view non-stationary embedding. Targets are gathered across processes with gradients, so
two processes on halves of a batch give the loss of one process on all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.backbones.registry import build_backbone
from hfvid.losses.predictive import feature_prediction_loss
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    add_equivariance_term,
    check_video_input,
    encode_views,
    equivariance_head,
    per_video,
)
from hfvid.utils.distributed import gather_rows_with_grad

from .configuration_lsfd import LSFDConfig


@dataclass
class LSFDModelOutput(ModelOutput):
    """Output of `LSFDModel`.

    Args:
        last_hidden_state: the backbone's last feature map (or tokens).
        pooler_output: (batch, hidden) the backbone's pooled features.
        stationary: (batch, projection_dim) the stationary part.
        non_stationary: (batch, projection_dim) the non-stationary part.
        hidden_states, attentions: as the backbone gives them, when asked for.
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    stationary: torch.FloatTensor | None = None
    non_stationary: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class LSFDForPreTrainingOutput(ModelOutput):
    """Output of `LSFDForPreTraining`.

    Args:
        loss: ``stationary_weight * stationary term + non_stationary_weight * non-stationary term``.
        task_losses: `{"stationary": ..., "non_stationary": ...}` the two unweighted terms.
        accuracy: `{"stationary": (batch, K)}` whether each short view's stationary embedding is closest to its own
            long view's, `{"non_stationary": (batch,)}` the same for the aggregate.
        stationary: (batch, 1 + K, projection_dim) L2-normalised stationary parts of every view (long first).
        non_stationary: (batch, 1 + K, projection_dim) L2-normalised non-stationary parts.
        pooler_output: (batch, 1 + K, hidden) backbone features of every view.
        hidden_states, attentions: the backbone's, clips video after video, when asked for.
    """

    loss: torch.FloatTensor | None = None
    task_losses: dict[str, torch.Tensor] | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    stationary: torch.FloatTensor | None = None
    non_stationary: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class LSFDPreTrainedModel(HfvidPreTrainedModel):
    config: LSFDConfig
    config_class = LSFDConfig
    base_model_prefix = "lsfd"
    _keys_to_ignore_on_load_unexpected = [r"^(aggregator|equivariance_head)\."]


class LSFDModel(LSFDPreTrainedModel, HfvidBackboneModel):
    """The backbone and the two heads: video -> pooled features, stationary and non-stationary parts. This is what
    `AutoModel` returns."""

    # Names `training/evaluate.py --feature` accepts beyond the output's own fields.
    feature_aliases = {"both": ("stationary", "non_stationary")}

    def __init__(self, config: LSFDConfig):
        HfvidPreTrainedModel.__init__(self, config)
        self.backbone = build_backbone(config.backbone)
        features = self.backbone.num_features
        self.stationary_head = MLPHead(features, config.projection_dim, config.projection_hidden_dim)
        self.non_stationary_head = MLPHead(features, config.projection_dim, config.projection_hidden_dim)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, frames, C, H, W) -> the backbone's outputs plus ``stationary`` and
        ``non_stationary`` (batch, projection_dim)."""
        features = HfvidBackboneModel.forward(self, pixel_values_videos, output_hidden_states, output_attentions)
        output = LSFDModelOutput(
            last_hidden_state=features.last_hidden_state,
            pooler_output=features.pooler_output,
            stationary=self.stationary_head(features.pooler_output),
            non_stationary=self.non_stationary_head(features.pooler_output),
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class LSFDBackboneModel(LSFDPreTrainedModel, HfvidBackboneModel):
    """The backbone without the two heads: what the classifier fine-tunes (a pre-trained folder's heads are left
    out when it loads)."""

    _keys_to_ignore_on_load_unexpected = [r"^(aggregator|equivariance_head)\.", r"^(lsfd\.)?(stationary_head|non_stationary_head)\."]


class Aggregator(nn.Module):
    """The short views' non-stationary embeddings (batch, K, D), in temporal order -> (batch, D)."""

    def __init__(self, kind: str, num_views: int, dim: int, hidden_dim: int):
        super().__init__()
        self.kind = kind
        if kind == "gru":
            self.gru = nn.GRU(dim, hidden_dim, batch_first=True)
            self.head = nn.Linear(hidden_dim, dim)
        else:
            self.head = MLPHead(num_views * dim, dim, hidden_dim)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        if self.kind == "gru":
            _, last = self.gru(embeddings)
            return self.head(last[-1])
        return self.head(embeddings.flatten(1))


class LSFDForPreTraining(LSFDPreTrainedModel):
    """`LSFDModel` (backbone and heads) and the aggregator of the short views."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks
    _keys_to_ignore_on_load_unexpected = [r"^equivariance_head\."]

    def __init__(self, config: LSFDConfig):
        super().__init__(config)
        self.lsfd = LSFDModel(config)
        self.aggregator = Aggregator(config.aggregator, config.num_short_views, config.projection_dim, config.projection_hidden_dim)
        self.equivariance_head = equivariance_head(config, self.lsfd.backbone.num_features)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        equivariance_values: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, 1 + K, frames, C, H, W), the long view then the K short views in order."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        batch, views = pixel_values_videos.shape[:2]
        features = encode_views(self.lsfd, pixel_values_videos, output_hidden_states, output_attentions)
        stationary = per_video(features.stationary, views)  # (batch, 1 + K, D)
        non_stationary = per_video(features.non_stationary, views)

        all_long, offset = gather_rows_with_grad(stationary[:, 0])
        shorts = stationary[:, 1:].transpose(0, 1)  # (K, batch, D)
        stationary_term = torch.stack([feature_prediction_loss(short, all_long, self.config.loss_temperature, offset) for short in shorts]).mean()
        aggregate = self.aggregator(non_stationary[:, 1:])
        all_long_changing, _ = gather_rows_with_grad(non_stationary[:, 0])
        non_stationary_term = feature_prediction_loss(aggregate, all_long_changing, self.config.loss_temperature, offset)
        loss = self.config.stationary_weight * stationary_term + self.config.non_stationary_weight * non_stationary_term

        with torch.no_grad():
            own = torch.arange(offset, offset + batch, device=stationary.device)

            def closest_is_own(queries, targets):
                return ((F.normalize(queries, dim=-1) @ F.normalize(targets, dim=-1).T).argmax(dim=-1) == own).float()

            accuracy = {
                "stationary": closest_is_own(shorts, all_long).T,
                "non_stationary": closest_is_own(aggregate, all_long_changing),
            }
        loss, accuracy = add_equivariance_term(self, loss, accuracy, equivariance_values)
        output = LSFDForPreTrainingOutput(
            loss=loss,
            task_losses={"stationary": stationary_term, "non_stationary": non_stationary_term},
            accuracy=accuracy,
            stationary=F.normalize(stationary, dim=-1),
            non_stationary=F.normalize(non_stationary, dim=-1),
            pooler_output=per_video(features.pooler_output, views),
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class LSFDForVideoClassification(LSFDPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = LSFDBackboneModel
    _keys_to_ignore_on_load_unexpected = LSFDBackboneModel._keys_to_ignore_on_load_unexpected


AUTO_CLASSES = {
    "AutoConfig": LSFDConfig,
    "AutoModel": LSFDModel,
    "AutoModelForPreTraining": LSFDForPreTraining,
    "AutoModelForVideoClassification": LSFDForVideoClassification,
}
