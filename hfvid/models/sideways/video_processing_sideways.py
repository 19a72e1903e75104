"""Sideways video processor: clips for a frame-wise video classifier (hfvid's evaluation clips; no pre-training
views: Sideways is a way to train, not a self-supervised objective)."""

from __future__ import annotations

from hfvid.models.video_processing_utils import HfvidVideoProcessor, HfvidVideoProcessorKwargs


class SidewaysVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """The settings of `SidewaysVideoProcessor` (those of `HfvidVideoProcessor`)."""


class SidewaysVideoProcessor(HfvidVideoProcessor):
    """Clips (batch, frames, C, H, W) of ``num_frames`` frames, resized, centre-cropped and normalised; fine-tuning
    takes its augmentation settings (`VideoClassificationCollator`)."""

    valid_kwargs = SidewaysVideoProcessorKwargs

    def pretraining_views(self, video, rng):
        raise NotImplementedError(
            "Sideways has no self-supervised pre-training views: it trains a classifier with labels "
            "(hfvid-finetune / Trainer); its frame-wise backbone pre-trains through any method's preset with "
            "backbone='framewise_tiny' or 'framewise_r18'"
        )
