"""HDC: spatial and temporal contrastive subtasks, decoupled, at several levels of the backbone."""

from hfvid.models.hdc.configuration_hdc import HDC_PRESETS, HDCConfig
from hfvid.models.hdc.modeling_hdc import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.hdc.modeling_hdc import (
    HDCForPreTraining,
    HDCForPreTrainingOutput,
    HDCForVideoClassification,
    HDCModel,
    HDCPreTrainedModel,
)
from hfvid.models.hdc.video_processing_hdc import HDCVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": HDCVideoProcessor}
PRESETS = HDC_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "HDC_PRESETS",
    "PRESETS",
    "HDCConfig",
    "HDCForPreTraining",
    "HDCForPreTrainingOutput",
    "HDCForVideoClassification",
    "HDCModel",
    "HDCPreTrainedModel",
    "HDCVideoProcessor",
]
