"""Next-frame prediction video processor: a clip and the frame that follows it, under one augmentation draw;
evaluation takes hfvid's centre clip."""

from __future__ import annotations

import numpy as np
import torch

from hfvid.data.frames import as_video, read_clips
from hfvid.data.sampling import random_clip
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class NextFrameVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """The settings of `NextFrameVideoProcessor` (those of `HfvidVideoProcessor`)."""


class NextFrameVideoProcessor(HfvidVideoProcessor):
    """Pre-training views of each video: ``pixel_values_videos`` (frames, C, H, W), ``num_frames`` consecutive frames
    at a uniformly random start, and ``next_frame_values`` (C, H, W), the frame after them. Both come from one
    augmentation draw (the same crop, flip and colours), so that only the motion tells them apart. A video with
    fewer than ``num_frames + 1`` frames is filled by looping (`hfvid.data.sampling.fit_to_video`)."""

    valid_kwargs = NextFrameVideoProcessorKwargs

    def pretraining_views(self, video, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One video -> ``{"pixel_values_videos": clip, "next_frame_values": frame}``, decoded in one pass."""
        video = as_video(video)
        (frames,) = read_clips(video, [random_clip(video.metadata.num_frames, self.num_frames + 1, rng)])
        frames = self.to_model_input(self.augmentation()(frames))
        return {"pixel_values_videos": frames[:-1], "next_frame_values": frames[-1]}
