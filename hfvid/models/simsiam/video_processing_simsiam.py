"""SimSiam video processor: two clips of a video at nearby times (CVRL's decreasing-gap sampling), each with
its own augmentation; evaluation takes hfvid's centre clip."""

from __future__ import annotations

from hfvid.models.video_processing_utils import MultiViewVideoProcessor, MultiViewVideoProcessorKwargs


class SimSiamVideoProcessorKwargs(MultiViewVideoProcessorKwargs, total=False):
    """The settings of `SimSiamVideoProcessor` (those of `MultiViewVideoProcessor`)."""


class SimSiamVideoProcessor(MultiViewVideoProcessor):
    """Pre-training input (batch, 2, frames, C, H, W): each view's prediction targets the other view's projection."""

    valid_kwargs = SimSiamVideoProcessorKwargs
