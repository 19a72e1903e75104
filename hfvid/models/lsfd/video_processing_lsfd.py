"""LSFD video processor: a long view and the short views that tile it; evaluation takes hfvid's centre clip."""

from __future__ import annotations

import numpy as np
import torch

from hfvid.data.sampling import random_clip
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class LSFDVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """num_short_views: short views per video."""

    num_short_views: int


class LSFDVideoProcessor(HfvidVideoProcessor):
    """Pre-training input (batch, 1 + num_short_views, frames, C, H, W): the long view (``num_frames`` frames at step
    ``num_short_views``), then the short views (``num_frames`` consecutive frames each, end to end over the same
    span) in temporal order, at a random position (a shorter video is filled by looping). The long view gets one
    augmentation draw and the short views share another (our choice: they are one sequence)."""

    num_short_views = 4
    valid_kwargs = LSFDVideoProcessorKwargs

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor matching an `LSFDConfig`."""
        return super().from_model_config(config, num_short_views=config.num_short_views, **kwargs)

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """The long view's frame indices, then each short view's."""
        span = random_clip(num_frames, self.num_frames * self.num_short_views, rng)
        return [span[:: self.num_short_views], *span.reshape(self.num_short_views, self.num_frames)]

    def pretraining_clips(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """(1 + num_short_views, frames, C, size, size) float."""
        long_view = self.augmentation()(clips[0])
        short_views = self.augmentation().together(clips[1:])
        return torch.stack([self.to_model_input(clip) for clip in (long_view, *short_views)])
