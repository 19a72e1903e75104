"""BraVe (Recasens et al., ICCV 2021): a narrow and a broad view of each video, each through its own backbone, predict
each other's projection.

Pre-training takes ``pixel_values_videos`` (batch, frames, C, H, W), the narrow views, and ``broad_values`` (batch,
broad frames, C, broad H, broad W), the broad views. The narrow backbone (under ``brave``, what `AutoModel` returns)
and the broad backbone (``broad_backbone``) each encode their view; one projector and one predictor serve both
(BraVe's code). The loss is the mean of ``1 - cos(prediction of one view, stop-gradient projection of the other)``
over both directions and the batch: no negatives, so nothing crosses processes under DDP.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.backbones.registry import build_backbone
from hfvid.losses.contrastive import negative_cosine_similarity
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    add_equivariance_term,
    check_video_input,
    equivariance_head,
)

from .configuration_brave import BraVeConfig


@dataclass
class BraVeForPreTrainingOutput(ModelOutput):
    """Output of `BraVeForPreTraining`.

    Args:
        loss: the mean over both directions and the batch of ``1 - cos(prediction, projection of the other view)``;
            0 (perfect) to 2.
        accuracy: with the config's equivariance term, `{"equivariance": (batch, transformations)}`; None without.
        predictions: (batch, 2, projection_dim) L2-normalised predictions of the narrow and the broad view.
        embeddings: (batch, 2, projection_dim) L2-normalised projections of the narrow and the broad view.
        pooler_output: (batch, hidden) the narrow backbone's features.
        broad_pooler_output: (batch, hidden) the broad backbone's features.
        hidden_states: with ``output_hidden_states``, the narrow backbone's stem and stage feature maps.
        attentions: with ``output_attentions`` (attention backbones), the narrow backbone's attention weights.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    predictions: torch.FloatTensor | None = None
    embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    broad_pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class BraVePreTrainedModel(HfvidPreTrainedModel):
    config: BraVeConfig
    config_class = BraVeConfig
    base_model_prefix = "brave"
    # Loading a pre-training checkpoint as the (narrow) backbone or a classifier leaves the rest out.
    _keys_to_ignore_on_load_unexpected = [r"^(broad_backbone|projector|predictor|equivariance_head)\."]


class BraVeModel(BraVePreTrainedModel, HfvidBackboneModel):
    """The narrow backbone alone: video -> features. This is what `AutoModel` returns."""


class BraVeForPreTraining(BraVePreTrainedModel):
    """Narrow backbone, broad backbone, and the projector and predictor both views share."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: BraVeConfig):
        super().__init__(config)
        self.brave = BraVeModel(config)
        self.broad_backbone = build_backbone(config.broad_backbone)
        features = self.brave.backbone.num_features
        if self.broad_backbone.num_features != features:
            raise ValueError(
                f"the broad backbone gives {self.broad_backbone.num_features} features and the narrow one {features}: "
                "BraVe's projector is shared, so they must match"
            )
        self.projector = MLPHead(features, config.projection_dim, config.projection_hidden_dim, output_batch_norm=True)
        self.predictor = MLPHead(config.projection_dim, config.projection_dim, config.predictor_hidden_dim)
        self.equivariance_head = equivariance_head(config, features)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        broad_values: torch.Tensor | None = None,
        equivariance_values: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, frames, C, H, W) narrow views; broad_values: (batch, broad frames, C, broad H,
        broad W) broad views of the same videos."""
        check_video_input(pixel_values_videos)
        if broad_values is None:
            raise ValueError("BraVe pre-training needs broad_values (batch, frames, channels, height, width), as its video processor makes them")
        check_video_input(broad_values)
        if len(broad_values) != len(pixel_values_videos):
            raise ValueError(f"{len(pixel_values_videos)} narrow views but {len(broad_values)} broad views")
        narrow = self.brave(pixel_values_videos, output_hidden_states=output_hidden_states, output_attentions=output_attentions)
        broad = self.broad_backbone(broad_values, attn_implementation=self.config._attn_implementation).pooler_output
        batch = len(pixel_values_videos)
        # Both views through the shared heads in one pass (their BatchNorms see both, as one batch of 2N).
        projections = self.projector(torch.cat([narrow.pooler_output, broad]))
        predictions = self.predictor(projections)
        narrow_projection, broad_projection = projections.split(batch)
        narrow_prediction, broad_prediction = predictions.split(batch)
        # negative_cosine_similarity = -cos with the target detached: 1 - cos is 1 + it.
        loss = 1 + 0.5 * (
            negative_cosine_similarity(narrow_prediction, broad_projection)
            + negative_cosine_similarity(broad_prediction, narrow_projection)
        )
        loss, accuracy = add_equivariance_term(self, loss, None, equivariance_values)
        output = BraVeForPreTrainingOutput(
            loss=loss,
            accuracy=accuracy,
            predictions=torch.stack([F.normalize(narrow_prediction, dim=1), F.normalize(broad_prediction, dim=1)], dim=1),
            embeddings=torch.stack([F.normalize(narrow_projection, dim=1), F.normalize(broad_projection, dim=1)], dim=1),
            pooler_output=narrow.pooler_output,
            broad_pooler_output=broad,
            hidden_states=narrow.hidden_states,
            attentions=narrow.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class BraVeForVideoClassification(BraVePreTrainedModel, HfvidForVideoClassification):
    """Narrow backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = BraVeModel


AUTO_CLASSES = {
    "AutoConfig": BraVeConfig,
    "AutoModel": BraVeModel,
    "AutoModelForPreTraining": BraVeForPreTraining,
    "AutoModelForVideoClassification": BraVeForVideoClassification,
}
