"""What every hfvid model shares: weight initialisation, the per-optimiser-step hook, saving with its code, the
backbone-only model (`AutoModel`), the video classifier (`AutoModelForVideoClassification`), the helpers of
multi-view methods and `random_init_model` (the random-weights baseline every evaluation compares against).

A method defines ``<Method>PreTrainedModel(HfvidPreTrainedModel)`` with its config class and
``base_model_prefix``, then gets its backbone model and classifier by mixing that class with
`HfvidBackboneModel` and `HfvidForVideoClassification`; only ``...ForPreTraining`` is written anew. Its
``forward`` takes the named views its video processor makes (see `hfvid.models.video_processing_utils`) and
returns a `ModelOutput` with ``loss``; per-optimiser-step work (momentum encoders, queues, schedules) goes into
``after_optimizer_step``, which a training loop calls once per optimiser step.
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from transformers import AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import BaseModelOutputWithPooling, ImageClassifierOutput

from hfvid.backbones.base import VideoBackbone
from hfvid.backbones.heads import MLPHead
from hfvid.backbones.momentum import KeyQueue, MomentumClipEncoder, MomentumEncoder
from hfvid.backbones.registry import build_backbone, init_backbone_module
from hfvid.losses.ranking import transformation_accuracy, transformation_cross_entropy, transformation_ranking_loss
from hfvid.utils.remote_code import write_remote_code, write_remote_pipeline


class SavesItsCode:
    """Mixin before `PreTrainedModel`: ``save_pretrained`` also writes the model's code, so that the folder loads with
    ``trust_remote_code=True`` where hfvid is not installed."""

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, plus the model's code (the ``AUTO_CLASSES`` of its modeling module) and the
        ``video-feature-extraction`` pipeline's, so the folder loads, and extracts features, with
        `trust_remote_code=True` where hfvid is not installed."""
        super().save_pretrained(save_directory, *args, **kwargs)
        auto_map = write_remote_code(save_directory, sys.modules[type(self).__module__].AUTO_CLASSES, "config.json")
        self.config.auto_map = {**(getattr(self.config, "auto_map", None) or {}), **auto_map}  # as a reloaded config has it
        self.config.custom_pipelines = write_remote_pipeline(save_directory)


class HfvidPreTrainedModel(SavesItsCode, PreTrainedModel):
    """Base of every hfvid model: video input, its backbone's initialisation, code saved with the weights."""

    main_input_name = "pixel_values_videos"
    input_modalities = "video"
    supports_gradient_checkpointing = True
    _supports_sdpa = True  # attention backbones (the video ViT) follow config._attn_implementation
    drops_tokens = False  # True in pre-training models: see `post_init`

    def _init_weights(self, module):
        """A backbone's modules as the backbone says (`hfvid.backbones.base.VideoBackbone.init_module`); heads:
        N(0, 0.01) linear weights, identity batch norms with reset statistics; momentum encoders and queues
        back to their never-updated, empty state."""
        if init_backbone_module(module):
            return
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, std=0.01)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            if module.weight is not None:
                init.ones_(module.weight)
                init.zeros_(module.bias)
            if module.running_mean is not None:
                init.zeros_(module.running_mean)
                init.ones_(module.running_var)
                init.zeros_(module.num_batches_tracked)
        elif isinstance(module, nn.Conv3d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, (MomentumEncoder, KeyQueue)):
            module.init_state()

    def post_init(self):
        """transformers' ``post_init``; a pre-training model (``drops_tokens``) also lets its backbones drop tokens
        in training mode, where their config asks for it (`hfvid.backbones.vit`)."""
        super().post_init()
        if self.drops_tokens:
            for module in self.modules():
                if isinstance(module, VideoBackbone):
                    module.token_dropping = True

    def after_optimizer_step(self, step: int, total_steps: int | None = None) -> None:
        """Work a method does once per optimiser step (after ``optimizer.step()``): momentum updates, queue pushes,
        schedules. ``step`` is the number of optimiser steps taken so far (1 after the first) and ``total_steps``
        the run's planned total. `training/pretrain.py` calls it; with `Trainer`, add
        `hfvid.utils.callbacks.AfterOptimizerStepCallback`. By default it steps the backbones' own schedules
        (`VideoBackbone.training_progress`); a method that overrides it calls ``super()`` first."""
        for module in self.modules():
            if isinstance(module, VideoBackbone):
                module.training_progress(step, total_steps)



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
    """The backbone alone: video -> features (what `AutoModel` returns). ``config.backbone`` names it (see
    `hfvid.backbones.registry`)."""

    def __init__(self, config):
        super().__init__(config)
        self.backbone = build_backbone(config.backbone)
        self.post_init()

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, frames, channels, height, width) -> `last_hidden_state`, the last
        feature map (batch, hidden, t, h, w) or tokens (batch, tokens, hidden), `pooler_output` (batch, hidden)
        and, with ``output_hidden_states``, the stem's and every stage's feature map (a ViT's embeddings and
        every block's tokens); with ``output_attentions``, a ViT's attention weights per block."""
        check_video_input(pixel_values_videos)
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        if output_attentions is None:
            output_attentions = self.config.output_attentions
        features = self.backbone(
            pixel_values_videos,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            attn_implementation=self.config._attn_implementation,
        )
        output = BaseModelOutputWithPooling(
            last_hidden_state=features.last_hidden_state,
            pooler_output=features.pooler_output,
            hidden_states=features.hidden_states,
            attentions=features.attentions,
        )
        return output.to_tuple() if return_dict is False else output


class HfvidForVideoClassification(HfvidPreTrainedModel):
    """Backbone + dropout + linear classifier, for fine-tuning and `pipeline("video-classification")`. The loss
    follows ``config.problem_type`` as in transformers (single-label cross-entropy, multi-label BCE, regression MSE).

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
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, frames, channels, height, width); `labels` (batch,) class indices, or
        (batch, num_labels) targets for multi-label classification and regression."""
        features = self.base_model(
            pixel_values_videos, output_hidden_states=output_hidden_states, output_attentions=output_attentions
        )
        logits = self.classifier(self.dropout(features.pooler_output))
        loss = self.loss_function(labels, logits, self.config) if labels is not None else None
        output = ImageClassifierOutput(
            loss=loss, logits=logits, hidden_states=features.hidden_states, attentions=features.attentions
        )
        return output.to_tuple() if return_dict is False else output


def encode_views(
    base_model: HfvidBackboneModel,
    pixel_values_videos: torch.Tensor,
    output_hidden_states: bool | None = None,
    output_attentions: bool | None = None,
) -> BaseModelOutputWithPooling:
    """The backbone output of every view, (batch, views, frames, C, H, W) -> ``pooler_output`` (views x batch,
    hidden), view after view (all view 0s, then all view 1s, ...), from one pass so that BatchNorm sees every clip
    of the batch; ``hidden_states`` and ``attentions`` (if asked for) video after video, (batch x views, ...), as a
    batch of clips of the videos in their order."""
    num_views = pixel_values_videos.shape[1]
    output = base_model(
        pixel_values_videos.transpose(0, 1).flatten(0, 1),
        output_hidden_states=output_hidden_states,
        output_attentions=output_attentions,
    )
    for name in ("hidden_states", "attentions"):
        if getattr(output, name) is not None:
            output[name] = tuple(per_video(h, num_views).flatten(0, 1) for h in getattr(output, name))
    return output


def per_video(rows: torch.Tensor, num_views: int) -> torch.Tensor:
    """Rows laid out view after view (as `encode_views` returns them) -> (batch, views, ...)."""
    return torch.stack(rows.chunk(num_views), dim=1)


class MomentumContrastForPreTraining(HfvidPreTrainedModel):
    """What MoCo-style methods (MoCo, RINCE) share: the query backbone model (under ``base_model_prefix``), a
    projector, their momentum copy that encodes the keys (``key_encoder``) and a queue of past keys. Subclasses
    set ``backbone_model_class`` and write ``forward``; in it, ``self.start_key_encoder()`` before the keys and
    ``self.queue.stage(keys, video_ids)`` after the loss. `after_optimizer_step` does the rest."""

    backbone_model_class: type[HfvidBackboneModel]
    drops_tokens = True

    def __init__(self, config):
        super().__init__(config)
        setattr(self, self.base_model_prefix, self.backbone_model_class(config))
        backbone = self.base_model.backbone
        self.projector = MLPHead(backbone.num_features, config.projection_dim, config.projection_hidden_dim)
        self.key_encoder = MomentumClipEncoder(backbone, self.projector)
        self.queue = KeyQueue(config.queue_size, config.projection_dim)
        self.equivariance_head = equivariance_head(config, backbone.num_features)
        self.post_init()

    def start_key_encoder(self) -> None:
        """In training mode: copy the query encoder into a never-updated key encoder (a fresh model)."""
        if self.training:
            self.key_encoder.start(backbone=self.base_model.backbone, projector=self.projector)

    def after_optimizer_step(self, step: int, total_steps: int | None = None) -> None:
        """Move the key encoder towards the query encoder, then queue the keys of this step's batches."""
        super().after_optimizer_step(step, total_steps)
        self.key_encoder.update(self.config.momentum, backbone=self.base_model.backbone, projector=self.projector)
        self.queue.push_staged()


def equivariance_head(config, num_features: int) -> MLPHead | None:
    """The head of E-SSL's equivariance term (``config.equivariance``, see
    `hfvid.models.configuration_utils.equivariance_settings`): backbone features -> one score per transformation;
    None when the config has no such term. A method stores it as ``self.equivariance_head``."""
    settings = getattr(config, "equivariance", None)
    if not settings:
        return None
    hidden = settings["head_hidden_dim"] or config.projection_hidden_dim
    return MLPHead(num_features, len(settings["transformations"]), hidden)


def add_equivariance_term(
    model: HfvidPreTrainedModel, loss: torch.Tensor, accuracy: dict | None, equivariance_values: torch.Tensor | None
) -> tuple[torch.Tensor, dict | None]:
    """``loss`` plus E-SSL's weighted equivariance term, and ``accuracy`` with ``"equivariance"`` added: (batch,
    transformations) whether each transformation was recognised. ``equivariance_values`` (batch, transformations,
    frames, C, H, W) are the extra clips the method's video processor makes, clip i carrying transformation i; the
    model's backbone (``model.base_model``) scores them with ``model.equivariance_head``, and the scores are ranked
    within each video (``loss="rank"``, TransRank's loss) or classified (``"cls"``, E-SSL's cross-entropy). Without
    the option, the loss and accuracy come back unchanged."""
    head, settings = model.equivariance_head, getattr(model.config, "equivariance", None)
    if head is None:
        if equivariance_values is not None:
            raise ValueError("equivariance_values were given, but the model's config has no equivariance term")
        return loss, accuracy
    num = len(settings["transformations"])
    if equivariance_values is None:
        raise ValueError(
            f"the config's equivariance term needs equivariance_values (batch, {num}, frames, channels, height, width), "
            "as the method's video processor makes them"
        )
    check_video_input(equivariance_values, clips_per_video=num)
    batch = len(equivariance_values)
    scores = head(model.base_model(equivariance_values.flatten(0, 1)).pooler_output).view(batch, num, num)
    if settings["loss"] == "rank":
        term = transformation_ranking_loss(scores, settings["margin"])
    else:
        term = transformation_cross_entropy(scores)
    recognised = transformation_accuracy(scores.detach(), by_ranking=settings["loss"] == "rank")
    return loss + settings["weight"] * term, {**(accuracy or {}), "equivariance": recognised}


def random_init_model(config, seed: int) -> PreTrainedModel:
    """``AutoModel.from_config(config)`` with random weights drawn from ``seed``: the baseline "random init" that
    evaluations compare a trained model against. An hfvid model's backbone is drawn as `HfvidBackboneModel` draws it,
    so that a seed's random backbone depends on the architecture alone and not on the method class around it (a
    class that builds heads before its backbone is initialised, as LSFD's `AutoModel` does, would shift the draw):
    every method on one backbone meets the same random weights for one seed. The rest (such heads; a transformers
    model) is drawn by ``AutoModel.from_config`` after ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    model = AutoModel.from_config(config)
    if isinstance(getattr(model, "backbone", None), VideoBackbone):
        torch.manual_seed(seed)
        model.backbone.load_state_dict(HfvidBackboneModel(config).backbone.state_dict())
    return model
