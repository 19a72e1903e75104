"""MoCo v2-style video models: the query backbone, a momentum key encoder and a queue of negatives.

Pre-training takes (batch, 2 views, frames, channels, height, width): view 0 of each video is its
query, view 1 its positive key. Keys come from the momentum encoder; the queue holds the keys of
earlier batches of every process (gathered across processes under DDP), so the loss on a process
equals the loss of one process on the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.backbones.momentum import KeyQueue, MomentumClipEncoder
from hfvid.losses.contrastive import info_nce_loss
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
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
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    query_embeddings: torch.FloatTensor | None = None
    key_embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None


class MoCoPreTrainedModel(HfvidPreTrainedModel):
    config: MoCoConfig
    config_class = MoCoConfig
    base_model_prefix = "moco"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the contrastive parts out.
    _keys_to_ignore_on_load_unexpected = [r"^(projector|key_encoder|queue)\."]


class MoCoModel(MoCoPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class MoCoForPreTraining(MoCoPreTrainedModel):
    """Query backbone + projector, their momentum copies for the keys, and the key queue."""

    def __init__(self, config: MoCoConfig):
        super().__init__(config)
        self.moco = MoCoModel(config)
        self.projector = MLPHead(self.moco.backbone.num_features, config.projection_dim, config.projection_hidden_dim)
        self.key_encoder = MomentumClipEncoder(self.moco.backbone, self.projector)
        self.queue = KeyQueue(config.queue_size, config.projection_dim)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        video_ids: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, 2, frames, channels, height, width). ``video_ids`` (batch,) are stored
        with the keys in the queue. In training mode the momentum encoder is updated first and the keys are
        queued after the loss."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        pooled = self.moco(pixel_values_videos[:, 0]).pooler_output
        queries = F.normalize(self.projector(pooled), dim=1)
        if self.training:
            self.key_encoder.update(self.config.momentum, backbone=self.moco.backbone, projector=self.projector)
        keys = self.key_encoder(pixel_values_videos[:, 1])
        negatives, _ = self.queue()
        loss = info_nce_loss(queries, keys, negatives, self.config.loss_temperature)
        with torch.no_grad():
            positive = (queries * keys).sum(dim=1)
            hardest_negative = (queries @ negatives.T).amax(dim=1) if len(negatives) else torch.full_like(positive, -1)
        if self.training:
            if video_ids is None:
                video_ids = torch.full((len(keys),), -1, dtype=torch.long, device=keys.device)
            self.queue.push(gather_rows(keys), gather_rows(video_ids))
        output = MoCoForPreTrainingOutput(
            loss=loss,
            accuracy={"instance": (positive > hardest_negative).float()},
            query_embeddings=queries,
            key_embeddings=keys,
            pooler_output=pooled,
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
