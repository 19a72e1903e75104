"""BYOL video models: an online backbone, projector and predictor, and a momentum target encoder.

Pre-training takes (batch, 2 views, frames, channels, height, width). The online network's prediction for
each view is pulled towards the target encoder's projection of the other view (BYOL's ``2 - 2 cos``, both
directions averaged). The target is an EMA of the online backbone and projector, updated at the start of
every optimiser step (`after_optimizer_step`), and gets no gradient. The loss compares each sample with itself only, so under
DDP no gathering is needed (BatchNorm statistics are per process).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.backbones.momentum import MomentumClipEncoder
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

from .configuration_byol import BYOLConfig


@dataclass
class BYOLForPreTrainingOutput(ModelOutput):
    """Output of `BYOLForPreTraining`.

    Args:
        loss: ``2 - 2 cos(prediction of one view, target projection of the other)``, averaged over the
            batch and both directions; 0 (perfect) to 4.
        accuracy: with the config's equivariance term, `{"equivariance": (batch, transformations)}` whether each
            transformation of E-SSL's extra clips was recognised; None without it.
        predictions: (batch, 2, projection_dim) L2-normalised online predictions of the two views.
        target_embeddings: (batch, 2, projection_dim) L2-normalised target projections of the two views.
        pooler_output: (batch, 2, hidden) online backbone features of the two views.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the the clips of both views (view after view).
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights, clips as in hidden_states.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    predictions: torch.FloatTensor | None = None
    target_embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class BYOLPreTrainedModel(HfvidPreTrainedModel):
    config: BYOLConfig
    config_class = BYOLConfig
    base_model_prefix = "byol"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the heads and the target out.
    _keys_to_ignore_on_load_unexpected = [r"^(projector|predictor|target_encoder|equivariance_head)\."]


class BYOLModel(BYOLPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class BYOLForPreTraining(BYOLPreTrainedModel):
    """Online backbone + projector + predictor, and the momentum copies of backbone and projector (the target)."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: BYOLConfig):
        super().__init__(config)
        self.byol = BYOLModel(config)
        self.projector = MLPHead(self.byol.backbone.num_features, config.projection_dim, config.projection_hidden_dim)
        self.predictor = MLPHead(config.projection_dim, config.projection_dim, config.predictor_hidden_dim)
        self.target_encoder = MomentumClipEncoder(self.byol.backbone, self.projector)
        self.equivariance_head = equivariance_head(config, self.byol.backbone.num_features)
        self.post_init()

    def after_optimizer_step(self, step: int, total_steps: int | None = None) -> None:
        """Move the target encoder towards the online one."""
        super().after_optimizer_step(step, total_steps)
        self.target_encoder.update(self.config.momentum, backbone=self.byol.backbone, projector=self.projector)

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        equivariance_values: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, 2, frames, channels, height, width). The first training forward of a
        fresh model copies the online encoder into the target encoder."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        batch = len(pixel_values_videos)
        if self.training:
            self.target_encoder.start(backbone=self.byol.backbone, projector=self.projector)
        features = encode_views(self.byol, pixel_values_videos, output_hidden_states, output_attentions)
        pooled = features.pooler_output
        predictions = self.predictor(self.projector(pooled))
        targets = self.target_encoder(pixel_values_videos.transpose(0, 1).flatten(0, 1))
        prediction_a, prediction_b = predictions.split(batch)
        target_a, target_b = targets.split(batch)
        # BYOL's ||p/|p| - z/|z|||^2 = 2 - 2 cos = 2 + 2 D(p, z) for each direction, the two averaged.
        loss = 0.5 * (
            (2 + 2 * negative_cosine_similarity(prediction_a, target_b))
            + (2 + 2 * negative_cosine_similarity(prediction_b, target_a))
        )
        loss, accuracy = add_equivariance_term(self, loss, None, equivariance_values)
        output = BYOLForPreTrainingOutput(
            loss=loss,
            accuracy=accuracy,
            predictions=per_video(F.normalize(predictions, dim=1), 2),
            target_embeddings=per_video(targets, 2),
            pooler_output=per_video(pooled, 2),
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class BYOLForVideoClassification(BYOLPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = BYOLModel


AUTO_CLASSES = {
    "AutoConfig": BYOLConfig,
    "AutoModel": BYOLModel,
    "AutoModelForPreTraining": BYOLForPreTraining,
    "AutoModelForVideoClassification": BYOLForVideoClassification,
}
