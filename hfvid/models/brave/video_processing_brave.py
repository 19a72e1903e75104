"""BraVe video processor: a narrow view and a broad view of each video, each with its own augmentation draw;
evaluation takes hfvid's centre clip (the narrow view's geometry)."""

from __future__ import annotations

import numpy as np
import torch

from hfvid.data.frames import as_video, read_clips
from hfvid.data.sampling import fit_to_video, random_clip
from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class BraVeVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """frame_step: the narrow view's step; broad_num_frames, broad_frame_step, broad_size: the broad view's
    frames, step and side; broad_input: "rgb" or "frame_difference"; narrow_position: "start" or "random"."""

    frame_step: int
    broad_num_frames: int
    broad_frame_step: int
    broad_size: int
    broad_input: str
    narrow_position: str


class BraVeVideoProcessor(HfvidVideoProcessor):
    """Pre-training views of each video: ``pixel_values_videos`` (frames, C, H, W), the narrow view, and
    ``broad_values`` (broad_num_frames, C, broad_size, broad_size), the broad view, which contains the narrow one.
    A video shorter than the broad view is filled by looping (`hfvid.data.sampling.fit_to_video`)."""

    frame_step = 1
    broad_num_frames = 64
    broad_frame_step = 4
    broad_size = 56
    broad_input = "rgb"
    narrow_position = "start"
    valid_kwargs = BraVeVideoProcessorKwargs

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor matching a `BraVeConfig`: both views' geometry and the broad view's input."""
        return super().from_model_config(
            config,
            frame_step=config.frame_step,
            broad_num_frames=config.broad_num_frames,
            broad_frame_step=config.broad_frame_step,
            broad_size=config.broad_image_size,
            broad_input=config.broad_input,
            narrow_position=config.narrow_position,
            **kwargs,
        )

    def sample_view_indices(self, num_frames: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(narrow, broad) frame indices of a ``num_frames``-frame video. The broad view starts uniformly at random
        (one frame more with frame differences, which need a frame after the last); the narrow view starts with it
        or, with ``narrow_position="random"``, anywhere that keeps it inside."""
        broad_frames = self.broad_num_frames + (self.broad_input == "frame_difference")
        broad = random_clip(num_frames, broad_frames, rng, stride=self.broad_frame_step, policy="loop")
        narrow_span = (self.num_frames - 1) * self.frame_step + 1
        broad_span = (self.broad_num_frames - 1) * self.broad_frame_step + 1
        offset = rng.integers(0, broad_span - narrow_span, endpoint=True) if self.narrow_position == "random" else 0
        narrow = fit_to_video(int(broad[0]) + offset + np.arange(self.num_frames) * self.frame_step, num_frames)
        return narrow, broad

    def pretraining_views(self, video, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One video -> ``{"pixel_values_videos": narrow, "broad_values": broad}`` (and E-SSL's
        ``equivariance_values`` where the model's config asks), every frame decoded once."""
        video = as_video(video)
        count = video.metadata.num_frames
        narrow_indices, broad_indices = self.sample_view_indices(count, rng)
        extra = self.sample_equivariance_indices(count, rng)
        narrow, broad, *extra_clips = read_clips(video, [narrow_indices, broad_indices, *extra])
        broad = self.to_model_input(self.augmentation(self.broad_size)(broad))
        if self.broad_input == "frame_difference":
            broad = broad[1:] - broad[:-1]
        views = {"pixel_values_videos": self.to_model_input(self.augmentation()(narrow)), "broad_values": broad}
        if extra_clips:
            views["equivariance_values"] = self.equivariance_clips(extra_clips)
        return views
