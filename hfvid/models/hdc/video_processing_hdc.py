"""HDC video processor: two clips of a video at nearby times, each through two augmentations; evaluation takes
hfvid's centre clip."""

from __future__ import annotations

from hfvid.models.video_processing_utils import MultiViewVideoProcessor, MultiViewVideoProcessorKwargs


class HDCVideoProcessorKwargs(MultiViewVideoProcessorKwargs, total=False):
    """The settings of `HDCVideoProcessor` (those of `MultiViewVideoProcessor`)."""


class HDCVideoProcessor(MultiViewVideoProcessor):
    """Pre-training input (batch, 4, frames, C, H, W): clip A under two augmentations, then clip B under two (clip
    starts from CVRL's decreasing-gap sampling, in random order)."""

    clips_per_video = 2
    views_per_clip = 2
    valid_kwargs = HDCVideoProcessorKwargs
