"""TransRank models: a video backbone, per-task transformation heads, and a classification head.

Inputs follow transformers' video convention, ``pixel_values_videos`` of shape (batch, frames,
channels, height, width); pre-training takes the clips of each video as (batch, clips, frames,
channels, height, width), clips laid out task after task as in ``config.transformations``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.losses.ranking import (
    transformation_accuracy,
    transformation_cross_entropy,
    transformation_ranking_loss,
)
from hfvid.models.modeling_utils import (
    HfvidBackboneModel,
    HfvidForVideoClassification,
    HfvidPreTrainedModel,
    check_video_input,
)

from .configuration_transrank import TransRankConfig


@dataclass
class TransRankForPreTrainingOutput(ModelOutput):
    """Output of `TransRankForPreTraining`.

    Args:
        loss: weighted sum of the task losses.
        task_losses: `{task name: loss}`.
        scores: `{task name: (batch, N, N)}` score matrices; entry (i, j) is clip i's score for transformation j.
        accuracy: `{task name: (batch, N)}` 1 where a video's transformation was recognised, else 0.
        pooler_output: (batch, clips, hidden) pooled features of every clip.
        hidden_states: with ``output_hidden_states``, the backbone's stem and stage feature maps of the every clip (clips folded into the batch).
        attentions: with ``output_attentions`` (attention backbones), every attention layer's weights, clips as in hidden_states.
    """

    loss: torch.FloatTensor | None = None
    task_losses: dict[str, torch.Tensor] | None = None
    scores: dict[str, torch.Tensor] | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class TransRankPreTrainedModel(HfvidPreTrainedModel):
    config: TransRankConfig
    config_class = TransRankConfig
    base_model_prefix = "transrank"
    # Loading a pre-training checkpoint as a backbone or classifier leaves its transformation heads out.
    _keys_to_ignore_on_load_unexpected = [r"^heads\."]


class TransRankModel(TransRankPreTrainedModel, HfvidBackboneModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""


class TransRankForPreTraining(TransRankPreTrainedModel):
    """Backbone + one head per transformation task, trained with the ranking (or cross-entropy) loss."""

    drops_tokens = True  # a ViT backbone drops tokens in pre-training where its config asks

    def __init__(self, config: TransRankConfig):
        super().__init__(config)
        self.transrank = TransRankModel(config)
        hidden_dim = config.head_hidden_dim if config.head == "mlp" else None
        num_features = self.transrank.backbone.num_features
        self.heads = nn.ModuleDict(
            {task["name"]: MLPHead(num_features, len(task["transformations"]), hidden_dim) for task in config.tasks}
        )
        self.post_init()

    @property
    def transformation_tasks(self) -> dict[str, list[str]]:
        """Task name -> the transformations its head scores, in score order. Any model with this property and
        `score_transformations` works with `hfvid.evaluation.speediness` and the Space's score tab."""
        return {task["name"]: list(task["transformations"]) for task in self.config.tasks}

    def score_transformations(self, pixel_values_videos: torch.Tensor) -> dict[str, torch.Tensor]:
        """Scores of single clips (batch, frames, channels, height, width) on every task's transformations,
        ``{task: (batch, N)}``, from one backbone pass."""
        pooled = self.transrank(pixel_values_videos).pooler_output
        return {name: head(pooled) for name, head in self.heads.items()}

    def score_clips(self, pixel_values_videos: torch.Tensor, task: str) -> torch.Tensor:
        """Scores (batch, N) of single clips (batch, frames, channels, height, width) on one task's transformations."""
        return self.heads[task](self.transrank(pixel_values_videos).pooler_output)

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, clips, frames, channels, height, width), clip i of a video carrying
        `config.transformations[i]`."""
        check_video_input(pixel_values_videos, clips_per_video=len(self.config.transformations))
        batch, num_clips = pixel_values_videos.shape[:2]
        features = self.transrank(pixel_values_videos.flatten(0, 1), output_hidden_states=output_hidden_states, output_attentions=output_attentions)
        pooled = features.pooler_output.view(batch, num_clips, -1)

        loss, task_losses, scores, accuracy, start = 0.0, {}, {}, {}, 0
        for task in self.config.tasks:
            name, size = task["name"], len(task["transformations"])
            task_scores = self.heads[name](pooled[:, start : start + size].flatten(0, 1)).view(batch, size, size)
            start += size
            if self.config.loss == "rank":
                task_loss = transformation_ranking_loss(task_scores, self.config.margin)
            else:
                task_loss = transformation_cross_entropy(task_scores)
            loss = loss + task["weight"] * task_loss
            task_losses[name], scores[name] = task_loss, task_scores
            accuracy[name] = transformation_accuracy(task_scores.detach(), by_ranking=self.config.loss == "rank")

        output = TransRankForPreTrainingOutput(
            loss=loss, task_losses=task_losses, scores=scores, accuracy=accuracy, pooler_output=pooled,
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class TransRankForVideoClassification(TransRankPreTrainedModel, HfvidForVideoClassification):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    backbone_model_class = TransRankModel


AUTO_CLASSES = {
    "AutoConfig": TransRankConfig,
    "AutoModel": TransRankModel,
    "AutoModelForPreTraining": TransRankForPreTraining,
    "AutoModelForVideoClassification": TransRankForVideoClassification,
}
