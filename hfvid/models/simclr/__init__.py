"""SimCLR / CVRL-style video contrast: two clips of a video as positives, the rest of the global batch as
negatives (NT-Xent)."""

from hfvid.models.simclr.configuration_simclr import SIMCLR_PRESETS, SimCLRConfig
from hfvid.models.simclr.modeling_simclr import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.simclr.modeling_simclr import (
    SimCLRForPreTraining,
    SimCLRForPreTrainingOutput,
    SimCLRForVideoClassification,
    SimCLRModel,
    SimCLRPreTrainedModel,
)
from hfvid.models.simclr.video_processing_simclr import SimCLRVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": SimCLRVideoProcessor}
PRESETS = SIMCLR_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "PRESETS",
    "SIMCLR_PRESETS",
    "SimCLRConfig",
    "SimCLRForPreTraining",
    "SimCLRForPreTrainingOutput",
    "SimCLRForVideoClassification",
    "SimCLRModel",
    "SimCLRPreTrainedModel",
    "SimCLRVideoProcessor",
]
