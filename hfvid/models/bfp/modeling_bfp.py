"""BFP (bidirectional feature prediction, Behrmann, Gall & Noroozi, WACV 2021): from the present block of a video,
predict a joint embedding of its past and future blocks, contrastively.

Pre-training takes (batch, 3 blocks, frames, channels, height, width), the blocks in the order past, present,
future. One backbone encodes every block; a predictor MLP maps the present block's features to a prediction; a
target MLP maps the concatenated (past, future) features to the target. The loss is InfoNCE: each prediction must
pick its own video's target among the targets of the global batch and, with ``swap_negatives``, among the swapped
targets (future, past) as well, its own swapped target being the hard negative that only the order of time tells
apart. Under DDP the targets of all processes are gathered with gradients, so two processes on halves of a batch
give the loss of one process on all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
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

from .configuration_bfp import BLOCKS, BFPConfig


@dataclass
class BFPForPreTrainingOutput(ModelOutput):
    """Output of `BFPForPreTraining`.

    Args:
        loss: the contrastive prediction loss over the global batch.
        accuracy: `{"instance": (batch,)}` whether each prediction's own target is its most similar candidate, and
            with ``swap_negatives`` `{"order": (batch,)}` whether it is more similar to its own target than to its
            own swapped target (chance 0.5).
        predictions: (batch, projection_dim) L2-normalised predictions from the present blocks.
        targets: (batch, projection_dim) L2-normalised targets (joint embeddings of the target blocks).
        pooler_output: (batch, blocks, hidden) backbone features of the encoded blocks, in the order past, present,
            future (without the block a one-directional ``prediction`` leaves out).
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the encoded blocks.
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights.
    """

    loss: torch.FloatTensor | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    predictions: torch.FloatTensor | None = None
    targets: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class BFPPreTrainedModel(HfvidPreTrainedModel):
    config: BFPConfig
    config_class = BFPConfig
    base_model_prefix = "bfp"
    # Loading a pre-training checkpoint as a backbone or classifier leaves the predictor and target heads out.
    _keys_to_ignore_on_load_unexpected = [r"^(predictor|target_head|equivariance_head)\."]


class BFPModel(BFPPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class BFPForPreTraining(BFPPreTrainedModel):
    """Backbone + predictor MLP (present -> prediction) + target MLP (target blocks -> joint embedding)."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: BFPConfig):
        super().__init__(config)
        self.bfp = BFPModel(config)
        features = self.bfp.backbone.num_features * config.block_cells
        self.predictor = MLPHead(features, config.projection_dim, config.projection_hidden_dim)
        self.target_head = MLPHead(features * len(config.target_blocks), config.projection_dim, config.projection_hidden_dim)
        self.equivariance_head = equivariance_head(config, self.bfp.backbone.num_features)
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
        """pixel_values_videos: (batch, 3, frames, channels, height, width), the past, present and future blocks of
        each video. A one-directional ``prediction`` does not encode the block it leaves out."""
        check_video_input(pixel_values_videos, clips_per_video=len(BLOCKS))
        batch = len(pixel_values_videos)
        encoded = [name for name in BLOCKS if name == "present" or name in self.config.target_blocks]
        blocks = pixel_values_videos[:, [BLOCKS.index(name) for name in encoded]]
        features = encode_views(self.bfp, blocks, output_hidden_states, output_attentions)
        pooled = per_video(features.pooler_output, len(encoded))
        block_features = dict(zip(encoded, per_video(self.block_vectors(features, blocks.shape[-4:]), len(encoded)).unbind(1)))
        predictions = self.predictor(block_features["present"])
        target_parts = [block_features[name] for name in self.config.target_blocks]
        target_inputs = torch.cat(target_parts, dim=1)
        swap = self.config.swap_negatives
        if swap:
            # One pass for both orders, so that the target MLP's BatchNorm normalises targets and swapped targets
            # with the same statistics: only the order of the blocks tells them apart.
            target_inputs = torch.cat([target_inputs, torch.cat(target_parts[::-1], dim=1)])
        embedded = self.target_head(target_inputs)
        targets, swapped = (embedded[:batch], embedded[batch:]) if swap else (embedded, None)
        all_targets, offset = gather_rows_with_grad(targets)
        all_swapped = gather_rows_with_grad(swapped)[0] if swap else None
        loss = feature_prediction_loss(predictions, all_targets, self.config.loss_temperature, offset, all_swapped)

        with torch.no_grad():
            unit_predictions = F.normalize(predictions, dim=1)
            candidates = all_targets if all_swapped is None else torch.cat([all_targets, all_swapped])
            similarities = unit_predictions @ F.normalize(candidates, dim=1).T
            own = torch.arange(offset, offset + batch, device=similarities.device)
            accuracy = {"instance": (similarities.argmax(dim=1) == own).float()}
            if swap:
                rows = torch.arange(batch, device=similarities.device)
                accuracy["order"] = (similarities[rows, own] > similarities[rows, own + len(all_targets)]).float()
        loss, accuracy = add_equivariance_term(self, loss, accuracy, equivariance_values)
        output = BFPForPreTrainingOutput(
            loss=loss,
            accuracy=accuracy,
            predictions=unit_predictions,
            targets=F.normalize(targets, dim=1),
            pooler_output=pooled,
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


    def block_vectors(self, features, clip_shape: tuple[int, ...]) -> torch.Tensor:
        """What the heads see of each encoded block (as `encode_views` lays them out): the pooled features, or with
        ``block_pooling="grid"`` the last feature map averaged over time on a pooling_grid^2 grid, flattened."""
        if self.config.block_pooling == "mean":
            return features.pooler_output
        feature_map = self.bfp.backbone.feature_map(features.last_hidden_state, clip_shape)
        cells = self.config.pooling_grid
        return F.adaptive_avg_pool3d(feature_map, (1, cells, cells)).flatten(1)


class BFPForVideoClassification(BFPPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = BFPModel


AUTO_CLASSES = {
    "AutoConfig": BFPConfig,
    "AutoModel": BFPModel,
    "AutoModelForPreTraining": BFPForPreTraining,
    "AutoModelForVideoClassification": BFPForVideoClassification,
}
