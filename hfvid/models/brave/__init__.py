"""BraVe: a narrow and a broad view of each video, through their own backbones, regress each other's projection."""

from hfvid.models.brave.configuration_brave import BRAVE_PRESETS, BraVeConfig
from hfvid.models.brave.modeling_brave import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.brave.modeling_brave import (
    BraVeForPreTraining,
    BraVeForPreTrainingOutput,
    BraVeForVideoClassification,
    BraVeModel,
    BraVePreTrainedModel,
)
from hfvid.models.brave.video_processing_brave import BraVeVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": BraVeVideoProcessor}
PRESETS = BRAVE_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "BRAVE_PRESETS",
    "PRESETS",
    "BraVeConfig",
    "BraVeForPreTraining",
    "BraVeForPreTrainingOutput",
    "BraVeForVideoClassification",
    "BraVeModel",
    "BraVePreTrainedModel",
    "BraVeVideoProcessor",
]
