"""The test-only DualView method: config, models and video processor in one module."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hfvid.backbones.heads import MLPHead
from hfvid.backbones.momentum import MomentumEncoder
from hfvid.backbones.registry import backbone_config, build_backbone
from hfvid.data.frames import as_video, read_clips
from hfvid.data.sampling import random_clip
from hfvid.losses.contrastive import negative_cosine_similarity
from hfvid.models.configuration_utils import HfvidConfig
from hfvid.models.modeling_utils import HfvidBackboneModel, HfvidForVideoClassification, HfvidPreTrainedModel
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class DualViewConfig(HfvidConfig):
    """``backbone``/``num_frames``/``image_size``: the narrow branch; ``broad_*``: the broad one (its clip takes
    every ``broad_stride``-th frame)."""

    model_type = "hfvid-test-dualview"
    method_name = "DualView"

    def __init__(self, broad_backbone="r3d_tiny", broad_num_frames=8, broad_image_size=16, broad_stride=2,
                 projection_dim=16, momentum=0.9, **kwargs):  # fmt: skip
        self.broad_backbone = backbone_config(broad_backbone)
        self.broad_num_frames = broad_num_frames
        self.broad_image_size = broad_image_size
        self.broad_stride = broad_stride
        self.projection_dim = projection_dim
        self.momentum = momentum
        super().__init__(**kwargs)


@dataclass
class DualViewForPreTrainingOutput(ModelOutput):
    loss: torch.FloatTensor | None = None
    shapes: dict[str, torch.Tensor] | None = None


class DualViewPreTrainedModel(HfvidPreTrainedModel):
    config_class = DualViewConfig
    base_model_prefix = "dualview"
    _keys_to_ignore_on_load_unexpected = [r"^(broad|narrow_projector|broad_projector|target|optimizer_steps|last_total_steps)"]


class DualViewModel(DualViewPreTrainedModel, HfvidBackboneModel):
    """The narrow backbone alone."""


class DualViewForPreTraining(DualViewPreTrainedModel):
    def __init__(self, config: DualViewConfig):
        super().__init__(config)
        self.dualview = DualViewModel(config)
        self.broad = build_backbone(config.broad_backbone)
        self.narrow_projector = MLPHead(self.dualview.backbone.num_features, config.projection_dim, 32)
        self.broad_projector = MLPHead(self.broad.num_features, config.projection_dim, 32)
        self.target = MomentumEncoder(broad=self.broad, broad_projector=self.broad_projector)
        self.register_buffer("optimizer_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("last_total_steps", torch.zeros((), dtype=torch.long))
        self.post_init()

    def after_optimizer_step(self, step: int, total_steps: int | None = None) -> None:
        self.target.update(self.config.momentum, broad=self.broad, broad_projector=self.broad_projector)
        self.optimizer_steps += 1
        self.last_total_steps.fill_(total_steps or 0)

    def forward(self, pixel_values_videos: torch.Tensor, broad_pixel_values_videos: torch.Tensor, return_dict=None):
        """pixel_values_videos (batch, num_frames, C, image_size, image_size); broad_pixel_values_videos
        (batch, broad_num_frames, C, broad_image_size, broad_image_size)."""
        config = self.config
        expected = {
            "pixel_values_videos": (config.num_frames, 3, config.image_size, config.image_size),
            "broad_pixel_values_videos": (config.broad_num_frames, 3, config.broad_image_size, config.broad_image_size),
        }
        given = {"pixel_values_videos": pixel_values_videos, "broad_pixel_values_videos": broad_pixel_values_videos}
        for name, shape in expected.items():
            if tuple(given[name].shape[1:]) != shape:
                raise ValueError(f"{name} must be (batch, {shape}), got {tuple(given[name].shape)}")
        if self.training:
            self.target.start(broad=self.broad, broad_projector=self.broad_projector)
        narrow = self.narrow_projector(self.dualview(pixel_values_videos).pooler_output)
        broad = self.broad_projector(self.broad(broad_pixel_values_videos).pooler_output)
        with torch.no_grad():
            target = self.target["broad_projector"](self.target["broad"](broad_pixel_values_videos).pooler_output)
        loss = negative_cosine_similarity(narrow, target) + negative_cosine_similarity(broad, narrow)
        shapes = {name: torch.tensor(value.shape) for name, value in given.items()}
        output = DualViewForPreTrainingOutput(loss=loss, shapes=shapes)
        return output.to_tuple() if return_dict is False else output


class DualViewForVideoClassification(DualViewPreTrainedModel, HfvidForVideoClassification):
    backbone_model_class = DualViewModel


class DualViewVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    broad_num_frames: int
    broad_image_size: int
    broad_stride: int


class DualViewVideoProcessor(HfvidVideoProcessor):
    """Two named views of different length and resolution from one decoding pass."""

    broad_num_frames = 8
    broad_image_size = 16
    broad_stride = 2
    valid_kwargs = DualViewVideoProcessorKwargs

    @classmethod
    def from_model_config(cls, config, **kwargs):
        return super().from_model_config(
            config, broad_num_frames=config.broad_num_frames, broad_image_size=config.broad_image_size,
            broad_stride=config.broad_stride, **kwargs,
        )  # fmt: skip

    def pretraining_views(self, video, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        video = as_video(video)
        num_frames = video.metadata.num_frames
        narrow = random_clip(num_frames, self.num_frames, rng)
        broad_span = min(num_frames, self.broad_num_frames * self.broad_stride)
        broad = np.linspace(0, broad_span - 1, self.broad_num_frames).round().astype(np.int64)
        narrow_clip, broad_clip = read_clips(video, [narrow, broad])
        size = self.crop_size.height
        narrow_clip = F.interpolate(narrow_clip.float(), size=(size, size), mode="bilinear").round().to(torch.uint8)
        broad_size = self.broad_image_size
        broad_clip = F.interpolate(broad_clip.float(), size=(broad_size, broad_size), mode="bilinear").round().to(torch.uint8)
        return {"pixel_values_videos": self.to_model_input(narrow_clip), "broad_pixel_values_videos": self.to_model_input(broad_clip)}


AUTO_CLASSES = {
    "AutoConfig": DualViewConfig,
    "AutoModel": DualViewModel,
    "AutoModelForPreTraining": DualViewForPreTraining,
    "AutoModelForVideoClassification": DualViewForVideoClassification,
}
