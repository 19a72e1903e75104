"""SimSiam video models: one backbone + projector for both views, a predictor, and a stop-gradient.

Pre-training takes (batch, 2 views, frames, channels, height, width). Each view's prediction is pulled
towards the projection of the other view, detached: ``0.5 * (D(p1, z2) + D(p2, z1))`` with D the negative
cosine similarity (-1 is perfect). The loss compares each sample with itself only, so under DDP no gathering
is needed (BatchNorm statistics are per process).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.losses.contrastive import negative_cosine_similarity
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

from .configuration_simsiam import SimSiamConfig


@dataclass
class SimSiamForPreTrainingOutput(ModelOutput):
    """Output of `SimSiamForPreTraining`.

    Args:
        loss: ``0.5 * (D(p1, z2) + D(p2, z1))``, D the negative cosine similarity with the target detached;
            -1 (perfect) to 1.
        accuracy: with the config's equivariance term, `{"equivariance": (batch, transformations)}` whether each
            transformation of E-SSL's extra clips was recognised; None without it.
        predictions: (batch, 2, projection_dim) L2-normalised predictions p of the two views.
        embeddings: (batch, 2, projection_dim) L2-normalised projections z of the two views (the targets).
        pooler_output: (batch, 2, hidden) backbone features of the two views.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the the clips of both views (view after view).
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights, clips as in hidden_states.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    predictions: torch.FloatTensor | None = None
    embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class SimSiamPreTrainedModel(HfvidPreTrainedModel):
    config: SimSiamConfig
    config_class = SimSiamConfig
    base_model_prefix = "simsiam"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the projector and predictor out.
    _keys_to_ignore_on_load_unexpected = [r"^(projector|predictor|equivariance_head)\."]


class SimSiamModel(SimSiamPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class SimSiamForPreTraining(SimSiamPreTrainedModel):
    """Backbone + projector (ending in an affine-free BatchNorm) + bottleneck predictor, shared by both views."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: SimSiamConfig):
        super().__init__(config)
        self.simsiam = SimSiamModel(config)
        self.projector = MLPHead(
            self.simsiam.backbone.num_features,
            config.projection_dim,
            config.projection_hidden_dim,
            output_batch_norm=True,
        )
        self.predictor = MLPHead(config.projection_dim, config.projection_dim, config.predictor_hidden_dim)
        self.equivariance_head = equivariance_head(config, self.simsiam.backbone.num_features)
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
        """pixel_values_videos: (batch, 2, frames, channels, height, width)."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        batch = len(pixel_values_videos)
        features = encode_views(self.simsiam, pixel_values_videos, output_hidden_states, output_attentions)
        pooled = features.pooler_output
        projections = self.projector(pooled)
        predictions = self.predictor(projections)
        projection_a, projection_b = projections.split(batch)
        prediction_a, prediction_b = predictions.split(batch)
        # negative_cosine_similarity detaches its target: the stop-gradient of SimSiam.
        loss = 0.5 * (
            negative_cosine_similarity(prediction_a, projection_b)
            + negative_cosine_similarity(prediction_b, projection_a)
        )
        loss, accuracy = add_equivariance_term(self, loss, None, equivariance_values)
        output = SimSiamForPreTrainingOutput(
            loss=loss,
            accuracy=accuracy,
            predictions=per_video(F.normalize(predictions, dim=1), 2),
            embeddings=per_video(F.normalize(projections, dim=1), 2),
            pooler_output=per_video(pooled, 2),
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class SimSiamForVideoClassification(SimSiamPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = SimSiamModel


AUTO_CLASSES = {
    "AutoConfig": SimSiamConfig,
    "AutoModel": SimSiamModel,
    "AutoModelForPreTraining": SimSiamForPreTraining,
    "AutoModelForVideoClassification": SimSiamForVideoClassification,
}
