"""BYOL video processor: two clips of a video at nearby times (CVRL's decreasing-gap sampling), each with
its own augmentation; evaluation takes hfvid's centre clip."""

from __future__ import annotations

from hfvid.models.video_processing_utils import MultiViewVideoProcessor, MultiViewVideoProcessorKwargs


class BYOLVideoProcessorKwargs(MultiViewVideoProcessorKwargs, total=False):
    """The settings of `BYOLVideoProcessor` (those of `MultiViewVideoProcessor`)."""


class BYOLVideoProcessor(MultiViewVideoProcessor):
    """Pre-training input (batch, 2, frames, C, H, W): each view's online prediction targets the other view.

    Both views draw from the same augmentation (crop, flip, colour jitter, grayscale). BYOL's Gaussian blur and
    solarisation, applied with different probabilities to its two views, are left out (our choice, shared
    with the other contrastive methods).
    """

    valid_kwargs = BYOLVideoProcessorKwargs
