"""What every hfvid model shares: weight initialisation, saving with its code, the backbone-only model
(`AutoModel`) and the video classifier (`AutoModelForVideoClassification`).

A method defines ``<Method>PreTrainedModel(HfvidPreTrainedModel)`` with its config class and
``base_model_prefix``, then gets its backbone model and classifier by mixing that class with
`HfvidBackboneModel` and `HfvidForVideoClassification`; only ``...ForPreTraining`` is written anew.
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import (
    BaseModelOutputWithPooling,
    ImageClassifierOutput,
)

from hfvid.backbones.resnet3d import build_backbone
from hfvid.hub.remote_code import write_remote_code


class HfvidPreTrainedModel(PreTrainedModel):
    """Base of every hfvid model: video input, torchvision's initialisation, code saved with the weights."""

    main_input_name = "pixel_values_videos"
    input_modalities = "video"

    def _init_weights(self, module):
        """torchvision's video ResNet initialisation."""
        if isinstance(module, nn.Conv3d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm3d, nn.BatchNorm1d)):
            if module.weight is not None:
                init.ones_(module.weight)
                init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, std=0.01)
            if module.bias is not None:
                init.zeros_(module.bias)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, plus the model's code (the ``AUTO_CLASSES`` of its modeling module), so
        the folder loads with `trust_remote_code=True` where hfvid is not installed."""
        super().save_pretrained(save_directory, *args, **kwargs)
        write_remote_code(save_directory, sys.modules[type(self).__module__].AUTO_CLASSES, "config.json")


def check_video_input(pixel_values_videos: torch.Tensor, clips_per_video: int | None = None) -> None:
    """Clear error for a wrongly shaped input: (batch, frames, C, H, W), or with ``clips_per_video``
    (batch, clips, frames, C, H, W)."""
    if clips_per_video is None:
        if pixel_values_videos.ndim != 5:
            raise ValueError(
                "pixel_values_videos must be (batch, frames, channels, height, width), "
                f"got {tuple(pixel_values_videos.shape)}"
            )
    elif pixel_values_videos.ndim != 6 or pixel_values_videos.shape[1] != clips_per_video:
        raise ValueError(
            f"pixel_values_videos must be (batch, {clips_per_video} clips, frames, channels, height, width), "
            f"got {tuple(pixel_values_videos.shape)}"
        )


class HfvidBackboneModel(HfvidPreTrainedModel):
    """The backbone alone: video -> features (what `AutoModel` returns). ``config.backbone`` names it."""

    def __init__(self, config):
        super().__init__(config)
        self.backbone = build_backbone(config.backbone)
        self.post_init()

    def forward(self, pixel_values_videos: torch.Tensor, return_dict: bool | None = None, **kwargs):
        """pixel_values_videos (batch, frames, channels, height, width) -> `last_hidden_state`, the last
        feature map (batch, hidden, t, h, w), and `pooler_output` (batch, hidden)."""
        check_video_input(pixel_values_videos)
        pooled, feature_map = self.backbone(pixel_values_videos.transpose(1, 2))
        if return_dict is False:
            return feature_map, pooled
        return BaseModelOutputWithPooling(last_hidden_state=feature_map, pooler_output=pooled)


class HfvidForVideoClassification(HfvidPreTrainedModel):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`.

    Subclasses set ``backbone_model_class`` (their `HfvidBackboneModel`), stored under ``base_model_prefix``
    so that a pre-training checkpoint's backbone weights load into it.
    """

    backbone_model_class: type[HfvidBackboneModel]

    def __init__(self, config):
        super().__init__(config)
        setattr(self, self.base_model_prefix, self.backbone_model_class(config))
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.base_model.backbone.num_features, config.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, frames, channels, height, width); `labels` (batch,) -> cross-entropy loss."""
        features = self.base_model(pixel_values_videos)
        logits = self.classifier(self.dropout(features.pooler_output))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        output = ImageClassifierOutput(loss=loss, logits=logits)
        return output.to_tuple() if return_dict is False else output
