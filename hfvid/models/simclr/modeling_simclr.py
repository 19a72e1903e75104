"""SimCLR / CVRL-style video models: one backbone and projector for both views, NT-Xent over the batch.

Pre-training takes (batch, 2 views, frames, channels, height, width). Both views of every video go through
the same encoder; each view's positive is the other view of its video, and every other view of the batch
is a negative. Under DDP the projections of all processes are gathered (with gradients), so the negatives
are the global batch and the loss equals that of one process on the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.losses.contrastive import nt_xent_loss
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

from .configuration_simclr import SimCLRConfig


@dataclass
class SimCLRForPreTrainingOutput(ModelOutput):
    """Output of `SimCLRForPreTraining`.

    Args:
        loss: NT-Xent of both views of every video against the global batch.
        accuracy: `{"instance": (batch,)}` whether each view 0's positive (view 1 of its video) is its most
            similar candidate in the global batch.
        embeddings: (batch, 2, projection_dim) L2-normalised projections of the two views.
        pooler_output: (batch, 2, hidden) backbone features of the two views.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the the clips of both views (view after view).
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights, clips as in hidden_states.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class SimCLRPreTrainedModel(HfvidPreTrainedModel):
    config: SimCLRConfig
    config_class = SimCLRConfig
    base_model_prefix = "simclr"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the projector out.
    _keys_to_ignore_on_load_unexpected = [r"^(projector|equivariance_head)\."]


class SimCLRModel(SimCLRPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class SimCLRForPreTraining(SimCLRPreTrainedModel):
    """Backbone + projection MLP, shared by both views."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: SimCLRConfig):
        super().__init__(config)
        self.simclr = SimCLRModel(config)
        self.projector = MLPHead(self.simclr.backbone.num_features, config.projection_dim, config.projection_hidden_dim)
        self.equivariance_head = equivariance_head(config, self.simclr.backbone.num_features)
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
        """pixel_values_videos: (batch, 2, frames, channels, height, width); the positives are given by the layout
        (each batch holds two views of each video)."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        batch = len(pixel_values_videos)
        features = encode_views(self.simclr, pixel_values_videos, output_hidden_states, output_attentions)
        pooled = features.pooler_output
        projections = self.projector(pooled)
        view_a, view_b = projections[:batch], projections[batch:]
        all_a, offset = gather_rows_with_grad(view_a)
        all_b, _ = gather_rows_with_grad(view_b)
        own_negatives = None
        if self.config.reverse_negatives:  # each anchor's own video, both clips played backwards
            reversed_a, reversed_b = self.projector(encode_views(self.simclr, pixel_values_videos.flip(2)).pooler_output).split(batch)
            own_negatives = torch.stack([torch.cat([reversed_a, reversed_b]), torch.cat([reversed_b, reversed_a])], dim=1)
        loss = nt_xent_loss(view_a, view_b, self.config.loss_temperature, all_a, all_b, offset, own_negatives=own_negatives)
        with torch.no_grad():
            anchors = F.normalize(view_a, dim=1)
            similarities = anchors @ F.normalize(torch.cat([all_a, all_b]), dim=1).T
            local = torch.arange(offset, offset + batch, device=similarities.device)
            similarities[torch.arange(batch, device=similarities.device), local] = float("-inf")  # not itself
            correct = similarities.argmax(dim=1) == local + len(all_a)
        loss, accuracy = add_equivariance_term(self, loss, {"instance": correct.float()}, equivariance_values)
        output = SimCLRForPreTrainingOutput(
            loss=loss,
            accuracy=accuracy,
            embeddings=per_video(F.normalize(projections, dim=1), 2),
            pooler_output=per_video(pooled, 2),
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class SimCLRForVideoClassification(SimCLRPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = SimCLRModel


AUTO_CLASSES = {
    "AutoConfig": SimCLRConfig,
    "AutoModel": SimCLRModel,
    "AutoModelForPreTraining": SimCLRForPreTraining,
    "AutoModelForVideoClassification": SimCLRForVideoClassification,
}
