"""LSFD: stationary and non-stationary features from a long view of a video and the short views that tile it."""

from hfvid.models.lsfd.configuration_lsfd import LSFD_PRESETS, LSFDConfig
from hfvid.models.lsfd.modeling_lsfd import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.lsfd.modeling_lsfd import (
    LSFDForPreTraining,
    LSFDForPreTrainingOutput,
    LSFDForVideoClassification,
    LSFDModel,
    LSFDModelOutput,
    LSFDPreTrainedModel,
)
from hfvid.models.lsfd.video_processing_lsfd import LSFDVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": LSFDVideoProcessor}
PRESETS = LSFD_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "LSFD_PRESETS",
    "PRESETS",
    "LSFDConfig",
    "LSFDForPreTraining",
    "LSFDForPreTrainingOutput",
    "LSFDForVideoClassification",
    "LSFDModel",
    "LSFDModelOutput",
    "LSFDPreTrainedModel",
    "LSFDVideoProcessor",
]
