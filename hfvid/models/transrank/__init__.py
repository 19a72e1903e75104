"""TransRank (CVPR 2022): self-supervised video learning by ranking-based transformation recognition."""

from hfvid.models.transrank.configuration_transrank import TRANSRANK_PRESETS, TransRankConfig
from hfvid.models.transrank.modeling_transrank import (
    AUTO_CLASSES as MODEL_AUTO_CLASSES,
)
from hfvid.models.transrank.modeling_transrank import (
    TransRankForPreTraining,
    TransRankForPreTrainingOutput,
    TransRankForVideoClassification,
    TransRankModel,
    TransRankPreTrainedModel,
)
from hfvid.models.transrank.video_processing_transrank import TransRankVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": TransRankVideoProcessor}
PRESETS = TRANSRANK_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "PRESETS",
    "TRANSRANK_PRESETS",
    "TransRankConfig",
    "TransRankForPreTraining",
    "TransRankForPreTrainingOutput",
    "TransRankForVideoClassification",
    "TransRankModel",
    "TransRankPreTrainedModel",
    "TransRankVideoProcessor",
]
