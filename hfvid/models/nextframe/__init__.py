"""Next-frame prediction: the backbone's code of a clip must tell a one-frame decoder what the next frame will be
(hfvid's own design, measured in benchmarks/bench_motion_prediction.py before it became a method)."""

from hfvid.models.nextframe.configuration_nextframe import NEXTFRAME_PRESETS, NextFrameConfig
from hfvid.models.nextframe.modeling_nextframe import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.nextframe.modeling_nextframe import (
    FiLMFrameDecoder,
    NextFrameForPreTraining,
    NextFrameForPreTrainingOutput,
    NextFrameForVideoClassification,
    NextFrameModel,
    NextFramePreTrainedModel,
)
from hfvid.models.nextframe.video_processing_nextframe import NextFrameVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": NextFrameVideoProcessor}
PRESETS = NEXTFRAME_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "NEXTFRAME_PRESETS",
    "PRESETS",
    "FiLMFrameDecoder",
    "NextFrameConfig",
    "NextFrameForPreTraining",
    "NextFrameForPreTrainingOutput",
    "NextFrameForVideoClassification",
    "NextFrameModel",
    "NextFramePreTrainedModel",
    "NextFrameVideoProcessor",
]
