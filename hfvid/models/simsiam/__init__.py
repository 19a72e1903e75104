"""SimSiam for video: a predictor maps one clip's projection onto another clip's of the same video, with a
stop-gradient on the target and no negatives."""

from hfvid.models.simsiam.configuration_simsiam import SIMSIAM_PRESETS, SimSiamConfig
from hfvid.models.simsiam.modeling_simsiam import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.simsiam.modeling_simsiam import (
    SimSiamForPreTraining,
    SimSiamForPreTrainingOutput,
    SimSiamForVideoClassification,
    SimSiamModel,
    SimSiamPreTrainedModel,
)
from hfvid.models.simsiam.video_processing_simsiam import SimSiamVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": SimSiamVideoProcessor}
PRESETS = SIMSIAM_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "PRESETS",
    "SIMSIAM_PRESETS",
    "SimSiamConfig",
    "SimSiamForPreTraining",
    "SimSiamForPreTrainingOutput",
    "SimSiamForVideoClassification",
    "SimSiamModel",
    "SimSiamPreTrainedModel",
    "SimSiamVideoProcessor",
]
