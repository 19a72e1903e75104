"""V-JEPA pre-training video processor: one augmented clip per video and its two multi-block target masks.

``pretraining_views`` gives ``{"pixel_values_videos": (T, C, H, W), "target_masks": (2, tokens)}``: the short-range
and long-range target masks of V-JEPA (True where a token is a prediction target; its context is the rest).
Evaluation (``processor(videos)``) gives ``pixel_values_videos`` like transformers' `VJEPA2VideoProcessor` (ImageNet
mean and std, resize to 8/7 of the crop), and ``save_pretrained`` writes a plain `VJEPA2VideoProcessor` config.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from hfvid.data.masks import multiblock_mask
from hfvid.models.video_processing_utils import MaskedClipVideoProcessor, MaskedClipVideoProcessorKwargs

MAX_MASK_DRAWS = 100


class VJEPAPreTrainingVideoProcessorKwargs(MaskedClipVideoProcessorKwargs, total=False):
    """target_mask_blocks: target mask name -> [blocks, scale] (see `VJEPAPreTrainingConfig`)."""

    target_mask_blocks: dict[str, list]


class VJEPAPreTrainingVideoProcessor(MaskedClipVideoProcessor):
    """One clip of ``num_frames`` frames ``frame_stride`` apart at a random time (V-JEPA: every 4th frame; hfvid's
    default 1), V-JEPA's augmentation (a random resized crop of 0.3-1 of the area and a horizontal flip) and one
    multi-block target mask per ``target_mask_blocks`` entry, each re-drawn until it leaves some context."""

    image_mean = list(IMAGENET_DEFAULT_MEAN)
    image_std = list(IMAGENET_DEFAULT_STD)
    crop_scale = [0.3, 1.0]
    target_mask_blocks = {"short_range": [8, 0.15], "long_range": [2, 0.7]}
    transformers_processor_type = "VJEPA2VideoProcessor"
    valid_kwargs = VJEPAPreTrainingVideoProcessorKwargs

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor of a `VJEPAPreTrainingConfig` (or a plain `VJEPA2Config`: V-JEPA's masks)."""
        blocks = getattr(config, "target_mask_blocks", cls.target_mask_blocks)
        return super().from_model_config(
            config, **{"target_mask_blocks": {name: list(value) for name, value in blocks.items()}, **kwargs}
        )

    def sample_masks(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """``{"target_masks": (masks, tokens) bool}``, one row per ``target_mask_blocks`` entry, in its order."""
        grid = self.token_grid
        masks = []
        for name, (blocks, scale) in self.target_mask_blocks.items():
            for _ in range(MAX_MASK_DRAWS):
                mask = multiblock_mask(grid, rng, num_blocks=int(blocks), scale=float(scale))
                if not mask.all():
                    break
            else:
                raise ValueError(f"the {name} target mask ({blocks} blocks at {scale}) covers every token of a {grid} grid")
            masks.append(mask)
        return {"target_masks": torch.from_numpy(np.stack(masks))}
