"""BFP (bidirectional feature prediction): from the present block of a video, predict a joint embedding of its past
and future blocks, with the swapped pair (future, past) as a temporal hard negative."""

from hfvid.models.bfp.configuration_bfp import BFP_PRESETS, BFPConfig
from hfvid.models.bfp.modeling_bfp import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.bfp.modeling_bfp import (
    BFPForPreTraining,
    BFPForPreTrainingOutput,
    BFPForVideoClassification,
    BFPModel,
    BFPPreTrainedModel,
)
from hfvid.models.bfp.video_processing_bfp import BFPVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": BFPVideoProcessor}
PRESETS = BFP_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "BFP_PRESETS",
    "PRESETS",
    "BFPConfig",
    "BFPForPreTraining",
    "BFPForPreTrainingOutput",
    "BFPForVideoClassification",
    "BFPModel",
    "BFPPreTrainedModel",
    "BFPVideoProcessor",
]
