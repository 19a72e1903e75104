"""RINCE video models: MoCo's momentum key encoder and queue, with ranked positives.

Pre-training takes (batch, clips x 2, frames, channels, height, width), laid out
[clip0-query, clip0-key, clip1-query, ...]. For each query clip the candidates are every key of the
global batch (gathered across processes) and every queued key, ranked: 1 = the same clip's key,
2 = any other key of the same video (same video id), 0 = negative (another video).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.losses.contrastive import rank_temperatures, rince_loss
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    MomentumContrastForPreTraining,
    add_equivariance_term,
    check_video_input,
)
from hfvid.utils.distributed import gather_rows_with_grad

from .configuration_rince import RINCEConfig

SAME_CLIP, SAME_VIDEO, OTHER_VIDEO = 1, 2, 0


@dataclass
class RINCEForPreTrainingOutput(ModelOutput):
    """Output of `RINCEForPreTraining`.

    Args:
        loss: RINCE over the ranked candidates.
        accuracy: `{"instance": (clips,), "video": (clips,)}` whether each query's own key (instance) / its
            best same-video key (video) out-scored every key of another video.
        similarities: (batch * clips, candidates) cosine similarities of the queries to the batch keys and queue.
        ranks: (batch * clips, candidates) the rank of each candidate (1 same clip, 2 same video, 0 negative).
        pooler_output: (batch * clips, hidden) backbone features of the query views.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the query clips.
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights, clips as in hidden_states.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    similarities: torch.FloatTensor | None = None
    ranks: torch.LongTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class RINCEPreTrainedModel(HfvidPreTrainedModel):
    config: RINCEConfig
    config_class = RINCEConfig
    base_model_prefix = "rince"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the contrastive parts out.
    _keys_to_ignore_on_load_unexpected = [r"^(projector|key_encoder|queue|equivariance_head)\."]


class RINCEModel(RINCEPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class RINCEForPreTraining(RINCEPreTrainedModel, MomentumContrastForPreTraining):
    """Query backbone + projector, their momentum copies for the keys, and a queue of keys with video ids."""

    backbone_model_class = RINCEModel

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
        """pixel_values_videos: (batch, clips x 2, frames, channels, height, width). ``video_ids`` (batch,)
        identify videos across batches, so that queued keys of the same video rank 2 (without them, the queue
        holds only negatives). In training mode the keys are staged for the queue (pushed by
        `after_optimizer_step`); the first training forward of a fresh model copies the query encoder into the
        key encoder."""
        check_video_input(pixel_values_videos, clips_per_video=self.config.views_per_video)
        batch, clips = len(pixel_values_videos), self.config.clips_per_video
        views = pixel_values_videos.unflatten(1, (clips, 2))
        features = self.rince(views[:, :, 0].flatten(0, 1), output_hidden_states=output_hidden_states, output_attentions=output_attentions)
        pooled = features.pooler_output
        queries = F.normalize(self.projector(pooled), dim=1)
        self.start_key_encoder()
        keys = self.key_encoder(views[:, :, 1].flatten(0, 1))

        batch_keys, offset = gather_rows_with_grad(keys)
        known_ids = video_ids is not None
        if not known_ids:  # the global batch position stands in for the id
            video_ids = offset // clips + torch.arange(batch, device=keys.device)
        clip_video_ids = video_ids.to(keys.device).repeat_interleave(clips)
        batch_key_ids, _ = gather_rows_with_grad(clip_video_ids)
        queue_keys, queue_ids = self.queue()

        ranks = torch.full((len(queries), len(batch_keys) + len(queue_keys)), OTHER_VIDEO, device=keys.device)
        same_video = clip_video_ids[:, None] == batch_key_ids[None, :]
        if known_ids:
            same_video = torch.cat([same_video, clip_video_ids[:, None] == queue_ids[None, :]], dim=1)
        ranks[:, : same_video.shape[1]][same_video] = SAME_VIDEO
        own_key = offset + torch.arange(len(queries), device=keys.device)
        ranks[torch.arange(len(queries)), own_key] = SAME_CLIP

        similarities = (queries @ torch.cat([batch_keys, queue_keys]).T).float()  # the loss in float32 under autocast
        temperatures = rank_temperatures(
            self.config.rank_similarities, self.config.temperature_min, self.config.temperature_max
        )
        loss = rince_loss(similarities, ranks, temperatures.to(similarities.device), self.config.variant)
        with torch.no_grad():
            hardest_negative = similarities.masked_fill(ranks != OTHER_VIDEO, -2).amax(dim=1)
            best_same_video = similarities.masked_fill(ranks != SAME_VIDEO, -2).amax(dim=1)
            accuracy = {
                "instance": (similarities[torch.arange(len(queries)), own_key] > hardest_negative).float(),
                "video": (best_same_video > hardest_negative).float(),
            }
        if self.training:
            self.queue.stage(batch_keys, batch_key_ids if known_ids else torch.full_like(batch_key_ids, -1))
        loss, accuracy = add_equivariance_term(self, loss, accuracy, equivariance_values)
        output = RINCEForPreTrainingOutput(
            loss=loss, accuracy=accuracy, similarities=similarities, ranks=ranks, pooler_output=pooled,
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class RINCEForVideoClassification(RINCEPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = RINCEModel


AUTO_CLASSES = {
    "AutoConfig": RINCEConfig,
    "AutoModel": RINCEModel,
    "AutoModelForPreTraining": RINCEForPreTraining,
    "AutoModelForVideoClassification": RINCEForVideoClassification,
}
