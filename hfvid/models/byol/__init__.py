"""BYOL for video: an online encoder predicts a momentum target encoder's projection of another clip of the
same video, without negatives."""

from hfvid.models.byol.configuration_byol import BYOL_PRESETS, BYOLConfig
from hfvid.models.byol.modeling_byol import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.byol.modeling_byol import (
    BYOLForPreTraining,
    BYOLForPreTrainingOutput,
    BYOLForVideoClassification,
    BYOLModel,
    BYOLPreTrainedModel,
)
from hfvid.models.byol.video_processing_byol import BYOLVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": BYOLVideoProcessor}
PRESETS = BYOL_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "BYOLConfig",
    "BYOLForPreTraining",
    "BYOLForPreTrainingOutput",
    "BYOLForVideoClassification",
    "BYOLModel",
    "BYOLPreTrainedModel",
    "BYOLVideoProcessor",
    "BYOL_PRESETS",
    "PRESETS",
]
