"""RINCE (AAAI 2022): ranking InfoNCE with ranked positives (same clip > same video > other videos)."""

from hfvid.models.rince.configuration_rince import RINCE_PRESETS, RINCEConfig
from hfvid.models.rince.modeling_rince import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.rince.modeling_rince import (
    RINCEForPreTraining,
    RINCEForPreTrainingOutput,
    RINCEForVideoClassification,
    RINCEModel,
    RINCEPreTrainedModel,
)
from hfvid.models.rince.video_processing_rince import RINCEVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": RINCEVideoProcessor}
PRESETS = RINCE_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "PRESETS",
    "RINCE_PRESETS",
    "RINCEConfig",
    "RINCEForPreTraining",
    "RINCEForPreTrainingOutput",
    "RINCEForVideoClassification",
    "RINCEModel",
    "RINCEPreTrainedModel",
    "RINCEVideoProcessor",
]
