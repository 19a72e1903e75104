"""TransRank video processor: evaluation clips, and the transformed clips of pre-training.

Evaluation is hfvid's shared one (`HfvidVideoProcessor`). Pre-training
(``processor.pretraining_views(video, rng)``): ``pixel_values_videos``, one clip per transformation, each
with its own temporal sampling, its own augmentation draw and then its spatial transformation,
stacked as (clips, frames, channels, height, width).
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.processing_utils import Unpack

from hfvid.data.transformations import parse_transformation
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class TransRankVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """transformations: one clip per name, in this order (see `hfvid.data.transformations`).
    speed_jitter: playback-speed factor range, or None.
    shared_augmentation: one augmentation draw for all clips of a video (True) or one per clip (False)."""

    transformations: list[str]
    speed_jitter: list[float] | None
    shared_augmentation: bool


class TransRankVideoProcessor(HfvidVideoProcessor):
    transformations = ["1x", "2x", "reverse", "rot0", "rot90", "rot180", "rot270"]
    speed_jitter = [0.8, 1.2]
    shared_augmentation = False
    valid_kwargs = TransRankVideoProcessorKwargs

    def __init__(self, **kwargs: Unpack[TransRankVideoProcessorKwargs]):
        super().__init__(**kwargs)
        for name in self.transformations:
            parse_transformation(name)

    @classmethod
    def from_model_config(cls, config, **kwargs) -> TransRankVideoProcessor:
        """The processor matching a `TransRankConfig`: its clip length, image size and transformations."""
        return super().from_model_config(
            config,
            transformations=list(config.transformations),
            speed_jitter=config.speed_jitter,
            shared_augmentation=config.shared_augmentation,
            **kwargs,
        )

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Frame indices of each pre-training clip of a ``num_frames``-frame video, one array per transformation."""
        return [
            parse_transformation(name).sample_indices(num_frames, self.num_frames, rng, speed_jitter=self.speed_jitter)
            for name in self.transformations
        ]

    def pretraining_clips(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """The uint8 clips (one per transformation, in order) -> (clips, frames, C, size, size) float.

        Each clip gets its own augmentation draw, or with ``shared_augmentation`` all clips of the video get
        the same crop, flip and colours, so that they differ only by their transformations; then its spatial
        transformation.
        """
        augment = self.augmentation()
        if self.shared_augmentation:
            clips = augment.together(clips)
        else:
            clips = [augment(clip) for clip in clips]
        return torch.stack(
            [self.to_model_input(parse_transformation(name).apply_spatial(clip)) for name, clip in zip(self.transformations, clips)]
        )
