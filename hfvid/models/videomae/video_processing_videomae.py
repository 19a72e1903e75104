"""VideoMAE pre-training video processor: one augmented clip per video and its token mask.

``pretraining_views`` gives ``{"pixel_values": (T, C, H, W), "bool_masked_pos": (tokens,)}``, exactly the inputs of
transformers' `VideoMAEForPreTraining`. Evaluation (``processor(videos)``) gives ``pixel_values`` (batch, T, C, H, W)
like transformers' `VideoMAEVideoProcessor`, normalised with the ImageNet mean and std that `VideoMAEForPreTraining`
undoes to compute its pixel targets. ``save_pretrained`` writes a plain `VideoMAEVideoProcessor` config (the
pre-training settings ride along), so the folder loads with transformers alone.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from hfvid.data.masks import random_mask, tube_mask
from hfvid.models.video_processing_utils import MaskedClipVideoProcessor, MaskedClipVideoProcessorKwargs

from .configuration_videomae import MASKINGS

MASK_SAMPLERS = {"tube": tube_mask, "random": random_mask}


class VideoMAEPreTrainingVideoProcessorKwargs(MaskedClipVideoProcessorKwargs, total=False):
    """mask_ratio, masking: as in `VideoMAEPreTrainingConfig` (and the fields of `MaskedClipVideoProcessor`)."""

    mask_ratio: float
    masking: str


class VideoMAEPreTrainingVideoProcessor(MaskedClipVideoProcessor):
    """One clip of ``num_frames`` frames ``frame_stride`` apart at a random time (VideoMAE: every 2nd frame on SSv2,
    every 4th on Kinetics; hfvid's default 1), VideoMAE's augmentation (a random resized crop of 0.4-1 of the area
    and a horizontal flip; no colour changes) and a ``masking`` mask of ``mask_ratio`` of its tokens."""

    image_mean = list(IMAGENET_DEFAULT_MEAN)
    image_std = list(IMAGENET_DEFAULT_STD)
    crop_scale = [0.4, 1.0]
    mask_ratio = 0.9
    masking = "tube"
    model_input_names = ["pixel_values"]
    transformers_processor_type = "VideoMAEVideoProcessor"
    valid_kwargs = VideoMAEPreTrainingVideoProcessorKwargs

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.masking not in MASKINGS:
            raise ValueError(f"masking must be one of {MASKINGS}, got {self.masking!r}")

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor of a `VideoMAEPreTrainingConfig` (or a plain `VideoMAEConfig`: VideoMAE's masking)."""
        masking = {"mask_ratio": getattr(config, "mask_ratio", cls.mask_ratio), "masking": getattr(config, "masking", cls.masking)}
        return super().from_model_config(config, **{**masking, **kwargs})

    def preprocess(self, videos, **kwargs):
        """As transformers' `VideoMAEVideoProcessor`: the clips under ``pixel_values``."""
        batch = super().preprocess(videos, **kwargs)
        batch["pixel_values"] = batch.pop("pixel_values_videos")
        return batch

    def sample_masks(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """``{"bool_masked_pos": (tokens,) bool}``: True where a token is hidden and reconstructed."""
        return {"bool_masked_pos": torch.from_numpy(MASK_SAMPLERS[self.masking](self.token_grid, self.mask_ratio, rng))}
