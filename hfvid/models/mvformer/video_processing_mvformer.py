"""MV-Former video processor: two views of a video with different frame sampling (CARL's time augmentation) and
their frames' timestamps; evaluation gives frames as hfvid's other processors do."""

from __future__ import annotations

import numpy as np
import torch

from hfvid.data.frames import as_video, read_clips
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class MVFormerVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """The settings of `MVFormerVideoProcessor`: those of `HfvidVideoProcessor` and ``min_window``."""

    min_window: float


class MVFormerVideoProcessor(HfvidVideoProcessor):
    """Pre-training views ``{"pixel_values_videos": (2, num_frames, C, H, W), "timestamps": (2, num_frames)}``: each
    view samples ``num_frames`` distinct frames, in order, from its own random window of at least ``min_window`` of the
    video (CARL's time augmentation), with its own spatial augmentation; ``timestamps`` are the frame indices."""

    min_window = 0.5
    valid_kwargs = MVFormerVideoProcessorKwargs

    @classmethod
    def from_model_config(cls, config, **kwargs):
        return super().from_model_config(config, min_window=config.min_window, **kwargs)

    def sample_view_indices(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Sorted frame indices of one view; frames repeat only when the window is shorter than ``num_frames``."""
        length = int(rng.integers(max(1, round(self.min_window * num_frames)), num_frames + 1))
        start = int(rng.integers(0, num_frames - length + 1))
        if length >= self.num_frames:
            return np.sort(rng.choice(length, self.num_frames, replace=False)) + start
        return np.sort(rng.integers(0, length, self.num_frames)) + start

    def pretraining_views(self, video, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        video = as_video(video)
        indices = [self.sample_view_indices(video.metadata.num_frames, rng) for _ in range(2)]
        clips = read_clips(video, indices)
        views = torch.stack([self.to_model_input(self.augmentation()(clip)) for clip in clips])
        return {"pixel_values_videos": views, "timestamps": torch.as_tensor(np.stack(indices), dtype=torch.float32)}
