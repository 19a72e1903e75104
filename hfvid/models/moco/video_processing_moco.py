"""MoCo video processor: two clips of a video at nearby times (CVRL's decreasing-gap sampling), each with
its own augmentation; evaluation takes hfvid's centre clip."""

from __future__ import annotations

from hfvid.models.video_processing_utils import MultiViewVideoProcessor, MultiViewVideoProcessorKwargs


class MoCoVideoProcessorKwargs(MultiViewVideoProcessorKwargs, total=False):
    """The settings of `MoCoVideoProcessor` (those of `MultiViewVideoProcessor`)."""


class MoCoVideoProcessor(MultiViewVideoProcessor):
    """Pre-training input (batch, 2, frames, C, H, W): view 0 goes to the query encoder, view 1 to the key encoder."""

    valid_kwargs = MoCoVideoProcessorKwargs
