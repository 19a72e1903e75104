"""SimCLR video processor: two clips of a video at nearby times (CVRL's decreasing-gap sampling), each with
its own augmentation; evaluation takes hfvid's centre clip."""

from __future__ import annotations

from hfvid.models.video_processing_utils import MultiViewVideoProcessor, MultiViewVideoProcessorKwargs


class SimCLRVideoProcessorKwargs(MultiViewVideoProcessorKwargs, total=False):
    """The settings of `SimCLRVideoProcessor` (those of `MultiViewVideoProcessor`)."""


class SimCLRVideoProcessor(MultiViewVideoProcessor):
    """Pre-training input (batch, 2, frames, C, H, W): the two views of each video, positives of each other."""

    valid_kwargs = SimCLRVideoProcessorKwargs
