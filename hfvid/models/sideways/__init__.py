"""Sideways and Skip-Sideways (Malinowski, Patraucean et al.): a frame-wise causal video network pipelined over
depth, trained by backpropagation through time or by Sideways' depth-parallel approximate gradients."""

from hfvid.models.sideways.configuration_sideways import SIDEWAYS_PRESETS, SidewaysConfig
from hfvid.models.sideways.modeling_sideways import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.sideways.modeling_sideways import (
    SidewaysForVideoClassification,
    SidewaysModel,
    SidewaysPredictionStream,
    SidewaysPreTrainedModel,
)
from hfvid.models.sideways.video_processing_sideways import SidewaysVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": SidewaysVideoProcessor}
PRESETS = SIDEWAYS_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "PRESETS",
    "SIDEWAYS_PRESETS",
    "SidewaysConfig",
    "SidewaysForVideoClassification",
    "SidewaysModel",
    "SidewaysPredictionStream",
    "SidewaysPreTrainedModel",
    "SidewaysVideoProcessor",
]
