"""TransRank models: a video backbone, per-task transformation heads, and a classification head.

Inputs follow transformers' video convention, ``pixel_values_videos`` of shape (batch, frames,
channels, height, width); pre-training takes the clips of each video as (batch, clips, frames,
channels, height, width), clips laid out task after task as in ``config.transformations``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import BaseModelOutputWithPooling, ImageClassifierOutput
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.backbones.resnet3d import build_backbone
from hfvid.hub.remote_code import write_remote_code
from hfvid.losses.ranking import transformation_accuracy, transformation_cross_entropy, transformation_ranking_loss

from .configuration_transrank import TransRankConfig


@dataclass
class TransRankForPreTrainingOutput(ModelOutput):
    """Output of `TransRankForPreTraining`.

    Args:
        loss: weighted sum of the task losses.
        task_losses: `{task name: loss}`.
        scores: `{task name: (batch, N, N)}` score matrices; entry (i, j) is clip i's score for transformation j.
        accuracy: `{task name: (N,)}` per-transformation recognition accuracy in this batch.
        pooler_output: (batch, clips, hidden) pooled features of every clip.
    """

    loss: torch.FloatTensor | None = None
    task_losses: dict[str, torch.Tensor] | None = None
    scores: dict[str, torch.Tensor] | None = None
    accuracy: dict[str, torch.Tensor] | None = None
    pooler_output: torch.FloatTensor | None = None


class TransRankPreTrainedModel(PreTrainedModel):
    config: TransRankConfig
    config_class = TransRankConfig
    base_model_prefix = "transrank"
    main_input_name = "pixel_values_videos"
    input_modalities = "video"
    # Loading a pre-training checkpoint as a backbone or classifier leaves its transformation heads out.
    _keys_to_ignore_on_load_unexpected = [r"^heads\."]

    def _init_weights(self, module):
        """torchvision's video ResNet initialisation."""
        if isinstance(module, nn.Conv3d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm3d, nn.BatchNorm1d)):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, std=0.01)
            if module.bias is not None:
                init.zeros_(module.bias)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, plus the model's code, so the folder loads with `trust_remote_code=True`
        where hfvid is not installed."""
        super().save_pretrained(save_directory, *args, **kwargs)
        write_remote_code(save_directory, AUTO_CLASSES, "config.json")


class TransRankModel(TransRankPreTrainedModel):
    """The backbone alone: video -> features. This is what `AutoModel` returns."""

    def __init__(self, config: TransRankConfig):
        super().__init__(config)
        self.backbone = build_backbone(config.backbone)
        self.post_init()

    def forward(self, pixel_values_videos: torch.Tensor, return_dict: bool | None = None, **kwargs):
        """pixel_values_videos (batch, frames, channels, height, width) -> `last_hidden_state`, the last
        feature map (batch, hidden, t, h, w), and `pooler_output` (batch, hidden)."""
        if pixel_values_videos.ndim != 5:
            raise ValueError(
                f"pixel_values_videos must be (batch, frames, channels, height, width), got {tuple(pixel_values_videos.shape)}"
            )
        pooled, feature_map = self.backbone(pixel_values_videos.transpose(1, 2))
        if return_dict is False:
            return feature_map, pooled
        return BaseModelOutputWithPooling(last_hidden_state=feature_map, pooler_output=pooled)


class TransRankForPreTraining(TransRankPreTrainedModel):
    """Backbone + one head per transformation task, trained with the ranking (or cross-entropy) loss."""

    def __init__(self, config: TransRankConfig):
        super().__init__(config)
        self.transrank = TransRankModel(config)
        hidden_dim = config.head_hidden_dim if config.head == "mlp" else None
        num_features = self.transrank.backbone.num_features
        self.heads = nn.ModuleDict(
            {
                task["name"]: MLPHead(num_features, len(task["transformations"]), hidden_dim)
                for task in config.tasks
            }
        )
        self.post_init()

    def score_clips(self, pixel_values_videos: torch.Tensor, task: str) -> torch.Tensor:
        """Scores (batch, N) of single clips (batch, frames, channels, height, width) on one task's
        transformations, e.g. for the speediness analysis."""
        return self.heads[task](self.transrank(pixel_values_videos).pooler_output)

    def forward(self, pixel_values_videos: torch.Tensor, return_dict: bool | None = None, **kwargs):
        """pixel_values_videos: (batch, clips, frames, channels, height, width), clip i of a video carrying
        `config.transformations[i]`."""
        expected = len(self.config.transformations)
        if pixel_values_videos.ndim != 6 or pixel_values_videos.shape[1] != expected:
            raise ValueError(
                f"pixel_values_videos must be (batch, {expected} clips, frames, channels, height, width) for "
                f"transformations {self.config.transformations}, got {tuple(pixel_values_videos.shape)}"
            )
        batch, num_clips = pixel_values_videos.shape[:2]
        pooled = self.transrank(pixel_values_videos.flatten(0, 1)).pooler_output.view(batch, num_clips, -1)

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
            loss=loss, task_losses=task_losses, scores=scores, accuracy=accuracy, pooler_output=pooled
        )
        return output.to_tuple() if return_dict is False else output


class TransRankForVideoClassification(TransRankPreTrainedModel):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`."""

    def __init__(self, config: TransRankConfig):
        super().__init__(config)
        self.transrank = TransRankModel(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.transrank.backbone.num_features, config.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, frames, channels, height, width); `labels` (batch,) -> cross-entropy loss."""
        features = self.transrank(pixel_values_videos)
        logits = self.classifier(self.dropout(features.pooler_output))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        output = ImageClassifierOutput(loss=loss, logits=logits)
        return output.to_tuple() if return_dict is False else output


AUTO_CLASSES = {
    "AutoConfig": TransRankConfig,
    "AutoModel": TransRankModel,
    "AutoModelForPreTraining": TransRankForPreTraining,
    "AutoModelForVideoClassification": TransRankForVideoClassification,
}
