"""HDC (hierarchically decoupled spatial-temporal contrast, Zhang & Crandall, WACV 2022): a spatial and a temporal
contrastive subtask, at several levels of the backbone.

Pre-training takes (batch, 4, frames, C, H, W): clip A under two augmentations (A, A'), then clip B, from another
time of the video, under two (B, B'). One backbone pass encodes all four; each level's hidden state is pooled over
space and time and projected by that level's spatial and temporal heads. Spatial subtask: A must pick B (and A' B',
both directions) among the global batch's. Temporal subtask: A must pick A' (and the other pairs of augmentations)
among the global batch's, with its own video's other-time clips also among the candidates (hard negatives).
Candidates are gathered across processes with gradients, so the loss does not depend on how a batch is split.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
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

from .configuration_hdc import HDCConfig

# (query view, positive view, hard-negative view or None) for each subtask; views: 0 = A, 1 = A', 2 = B, 3 = B'.
SPATIAL_PAIRS = ((0, 2, None), (2, 0, None), (1, 3, None), (3, 1, None))
TEMPORAL_PAIRS = ((0, 1, 2), (1, 0, 3), (2, 3, 0), (3, 2, 1))


@dataclass
class HDCForPreTrainingOutput(ModelOutput):
    """Output of `HDCForPreTraining`.

    Args:
        loss: the level-weighted sum of ``spatial_weight * spatial + temporal_weight * temporal`` subtask losses.
        task_losses: `{"spatial": ..., "temporal": ...}` each subtask's level-weighted loss.
        accuracy: at the last level, `{"spatial": (batch,)}` whether A's closest candidate is B, `{"temporal": (batch,)}`
            whether A's closest candidate is A'.
        pooler_output: (batch, 4, hidden) backbone features of the four views.
        hidden_states, attentions: the backbone's, clips video after video, when asked for.
    """

    loss: torch.FloatTensor | None = None
    task_losses: dict[str, torch.Tensor] | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class HDCPreTrainedModel(HfvidPreTrainedModel):
    config: HDCConfig
    config_class = HDCConfig
    base_model_prefix = "hdc"
    _keys_to_ignore_on_load_unexpected = [r"^(spatial_heads|temporal_heads|equivariance_head)\."]


class HDCModel(HDCPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


def pooled(hidden_state: torch.Tensor) -> torch.Tensor:
    """A hidden state pooled over space and time: a feature map (N, C, t, h, w) or tokens (N, L, C) -> (N, C)."""
    return hidden_state.mean(dim=(2, 3, 4)) if hidden_state.ndim == 5 else hidden_state.mean(dim=1)


class HDCForPreTraining(HDCPreTrainedModel):
    """Backbone + a spatial and a temporal projection head per level."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: HDCConfig):
        super().__init__(config)
        self.hdc = HDCModel(config)
        sizes = self.hdc.backbone.hidden_sizes
        for level in config.levels:
            if not -len(sizes) <= level < len(sizes):
                raise ValueError(f"level {level} is not one of the backbone's {len(sizes)} hidden states")
        self.spatial_heads = nn.ModuleList(
            MLPHead(sizes[level], config.projection_dim, config.projection_hidden_dim) for level in config.levels
        )
        self.temporal_heads = nn.ModuleList(
            MLPHead(sizes[level], config.projection_dim, config.projection_hidden_dim) for level in config.levels
        )
        self.equivariance_head = equivariance_head(config, self.hdc.backbone.num_features)
        self.post_init()

    def subtask_loss(self, embeddings: torch.Tensor, pairs: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean InfoNCE over ``pairs`` of embeddings (batch, 4, D); and whether the first pair's query found its
        positive closest."""
        gathered = [gather_rows_with_grad(embeddings[:, view]) for view in range(embeddings.shape[1])]
        offset = gathered[0][1]
        losses = []
        for query, positive, hard in pairs:
            extra = gathered[hard][0] if hard is not None else None
            losses.append(feature_prediction_loss(embeddings[:, query], gathered[positive][0], self.config.loss_temperature, offset, extra))
        query, positive, hard = pairs[0]
        with torch.no_grad():
            candidates = gathered[positive][0] if hard is None else torch.cat([gathered[positive][0], gathered[hard][0]])
            closest = (F.normalize(embeddings[:, query], dim=1) @ F.normalize(candidates, dim=1).T).argmax(dim=1)
            found = closest == torch.arange(offset, offset + len(embeddings), device=closest.device)
        return torch.stack(losses).mean(), found.float()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        equivariance_values: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, 4, frames, C, H, W): clip A under two augmentations, then clip B under two."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        batch, views = pixel_values_videos.shape[:2]
        features = encode_views(self.hdc, pixel_values_videos, output_hidden_states=True, output_attentions=output_attentions)
        spatial_total, temporal_total, accuracy = 0.0, 0.0, {}
        num_levels = len(features.hidden_states)
        for index, (level, weight) in enumerate(zip(self.config.levels, self.config.level_weights)):
            if level % num_levels == num_levels - 1:  # the last: the backbone's own pooled output (a ViT's final norm)
                level_features = per_video(features.pooler_output, views).flatten(0, 1)
            else:
                level_features = pooled(features.hidden_states[level])  # video after video
            spatial = self.spatial_heads[index](level_features).view(batch, views, -1)
            temporal = self.temporal_heads[index](level_features).view(batch, views, -1)
            spatial_loss, accuracy["spatial"] = self.subtask_loss(spatial, SPATIAL_PAIRS)
            temporal_loss, accuracy["temporal"] = self.subtask_loss(temporal, TEMPORAL_PAIRS)
            spatial_total = spatial_total + weight * spatial_loss
            temporal_total = temporal_total + weight * temporal_loss
        loss = self.config.spatial_weight * spatial_total + self.config.temporal_weight * temporal_total
        loss, accuracy = add_equivariance_term(self, loss, accuracy, equivariance_values)
        output = HDCForPreTrainingOutput(
            loss=loss,
            task_losses={"spatial": spatial_total, "temporal": temporal_total},
            accuracy=accuracy,
            pooler_output=per_video(features.pooler_output, views),
            hidden_states=features.hidden_states if output_hidden_states or self.config.output_hidden_states else None,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class HDCForVideoClassification(HDCPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = HDCModel


AUTO_CLASSES = {
    "AutoConfig": HDCConfig,
    "AutoModel": HDCModel,
    "AutoModelForPreTraining": HDCForPreTraining,
    "AutoModelForVideoClassification": HDCForVideoClassification,
}
