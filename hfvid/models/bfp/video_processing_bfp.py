"""BFP video processor: three consecutive blocks of a video (past, present, future), one augmentation draw for
all three; evaluation takes hfvid's centre clip."""

from __future__ import annotations

import numpy as np
import torch

from hfvid.data.sampling import random_clip
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class BFPVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """block_gap: frames left out between consecutive blocks."""

    block_gap: int


class BFPVideoProcessor(HfvidVideoProcessor):
    """Pre-training input (batch, 3, frames, C, H, W): the past, present and future blocks of each video, in that
    order, each ``num_frames`` consecutive frames, ``block_gap`` frames apart, at a random position in the video
    (a video shorter than the three blocks is filled by looping, as every hfvid sampler does;
    `hfvid.data.sampling.fit_to_video`).

    The three blocks share one augmentation draw (crop, flip, colours; our choice, as the blocks are parts of one
    observation): what tells a block from another is then time, not a different crop. A horizontal flip mirrors
    the whole video, which keeps past and future apart."""

    block_gap = 0
    valid_kwargs = BFPVideoProcessorKwargs

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.block_gap < 0:
            raise ValueError(f"block_gap must be >= 0, got {self.block_gap}")

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor matching a `BFPConfig`: its block length (``num_frames``), image size and block gap."""
        return super().from_model_config(config, block_gap=config.block_gap, **kwargs)

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Frame indices of the past, present and future blocks of a ``num_frames``-frame video."""
        length, step = self.num_frames, self.num_frames + self.block_gap
        span = random_clip(num_frames, 2 * step + length, rng)
        return [span[start : start + length] for start in (0, step, 2 * step)]

    def pretraining_clips(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """The uint8 blocks (past, present, future) -> (3, frames, C, size, size) float, one augmentation for all."""
        return torch.stack([self.to_model_input(clip) for clip in self.augmentation().together(clips)])
