"""RINCE video processor: ``clips_per_video`` clips of a video at nearby times, each seen through two
augmentations; evaluation takes hfvid's centre clip."""

from __future__ import annotations

from hfvid.models.video_processing_utils import MultiViewVideoProcessor, MultiViewVideoProcessorKwargs


class RINCEVideoProcessorKwargs(MultiViewVideoProcessorKwargs, total=False):
    """The settings of `RINCEVideoProcessor` (those of `MultiViewVideoProcessor`)."""


class RINCEVideoProcessor(MultiViewVideoProcessor):
    """Pre-training input (batch, clips x 2, frames, C, H, W), clip after clip: [clip0-query, clip0-key,
    clip1-query, clip1-key, ...]."""

    valid_kwargs = RINCEVideoProcessorKwargs

    views_per_clip = 2
