"""MoCo v2-style video contrast: momentum key encoder, key queue, two clips of a video as positives."""

from hfvid.models.moco.configuration_moco import MOCO_PRESETS, MoCoConfig
from hfvid.models.moco.modeling_moco import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.moco.modeling_moco import (
    MoCoForPreTraining,
    MoCoForPreTrainingOutput,
    MoCoForVideoClassification,
    MoCoModel,
    MoCoPreTrainedModel,
)
from hfvid.models.moco.video_processing_moco import MoCoVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": MoCoVideoProcessor}
PRESETS = MOCO_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "MOCO_PRESETS",
    "PRESETS",
    "MoCoConfig",
    "MoCoForPreTraining",
    "MoCoForPreTrainingOutput",
    "MoCoForVideoClassification",
    "MoCoModel",
    "MoCoPreTrainedModel",
    "MoCoVideoProcessor",
]
