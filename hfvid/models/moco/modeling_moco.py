"""MoCo v2-style video models: the query backbone, a momentum key encoder and a queue of negatives.

Pre-training takes (batch, 2 views, frames, channels, height, width): view 0 of each video is its
query, view 1 its positive key. Keys come from the momentum encoder; the queue holds the keys of
earlier optimiser steps of every process (gathered across processes under DDP), so the loss on a process
equals the loss of one process on the whole batch. Once per optimiser step (`after_optimizer_step`) the key
encoder moves towards the query encoder and the step's keys enter the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.losses.contrastive import info_nce_loss
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    MomentumContrastForPreTraining,
    add_equivariance_term,
    check_video_input,
)
from hfvid.utils.distributed import gather_rows

from .configuration_moco import MoCoConfig


@dataclass
class MoCoForPreTrainingOutput(ModelOutput):
    """Output of `MoCoForPreTraining`.

    Args:
        loss: InfoNCE of the queries against their keys and the queue.
        accuracy: `{"instance": (batch,)}` whether each query's own key out-scored every queued key.
        query_embeddings: (batch, projection_dim) L2-normalised query projections.
        key_embeddings: (batch, projection_dim) L2-normalised keys of the momentum encoder.
        pooler_output: (batch, hidden) backbone features of the query views.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the query clips.
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights, clips as in hidden_states.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    query_embeddings: torch.FloatTensor | None = None
    key_embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class MoCoPreTrainedModel(HfvidPreTrainedModel):
    config: MoCoConfig
    config_class = MoCoConfig
    base_model_prefix = "moco"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the contrastive parts out.
    _keys_to_ignore_on_load_unexpected = [r"^(projector|key_encoder|queue|equivariance_head)\."]


class MoCoModel(MoCoPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class MoCoForPreTraining(MoCoPreTrainedModel, MomentumContrastForPreTraining):
    """Query backbone + projector, their momentum copies for the keys, and the key queue."""

    backbone_model_class = MoCoModel

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        video_ids: torch.Tensor | None = None,
        equivariance_values: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, 2, frames, channels, height, width). ``video_ids`` (batch,) are stored
        with the keys in the queue. In training mode the keys are staged for the queue (pushed by
        `after_optimizer_step`); the first training forward of a fresh model copies the query encoder into the
        key encoder."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        features = self.moco(pixel_values_videos[:, 0], output_hidden_states=output_hidden_states, output_attentions=output_attentions)
        pooled = features.pooler_output
        queries = F.normalize(self.projector(pooled), dim=1)
        self.start_key_encoder()
        keys = self.key_encoder(pixel_values_videos[:, 1])
        negatives, _ = self.queue()
        # config.reverse_negatives: the key clip played backwards (frames reversed) is this query's own negative.
        reversed_keys = self.key_encoder(pixel_values_videos[:, 1].flip(1))[:, None] if self.config.reverse_negatives else None
        loss = info_nce_loss(queries, keys, negatives, self.config.loss_temperature, own_negatives=reversed_keys)
        with torch.no_grad():
            positive = (queries * keys).sum(dim=1)
            hardest_negative = (queries @ negatives.T).amax(dim=1) if len(negatives) else torch.full_like(positive, -1)
        if self.training:
            if video_ids is None:
                video_ids = torch.full((len(keys),), -1, dtype=torch.long, device=keys.device)
            self.queue.stage(gather_rows(keys), gather_rows(video_ids))
        accuracy = {"instance": (positive > hardest_negative).float()}
        loss, accuracy = add_equivariance_term(self, loss, accuracy, equivariance_values)
        output = MoCoForPreTrainingOutput(
            loss=loss,
            accuracy=accuracy,
            query_embeddings=queries,
            key_embeddings=keys,
            pooler_output=pooled,
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class MoCoForVideoClassification(MoCoPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = MoCoModel


AUTO_CLASSES = {
    "AutoConfig": MoCoConfig,
    "AutoModel": MoCoModel,
    "AutoModelForPreTraining": MoCoForPreTraining,
    "AutoModelForVideoClassification": MoCoForVideoClassification,
}
