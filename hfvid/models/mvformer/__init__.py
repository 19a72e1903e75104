"""MV-Former: per-frame video representations from a frozen image encoder (Learnable Spatial Token Pooling and a
temporal transformer), pre-trained with CARL's sequence contrastive loss."""

from hfvid.models.mvformer.configuration_mvformer import MVFORMER_PRESETS, MVFormerConfig
from hfvid.models.mvformer.modeling_mvformer import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.mvformer.modeling_mvformer import (
    MVFormerForPreTraining,
    MVFormerForPreTrainingOutput,
    MVFormerModel,
    MVFormerPreTrainedModel,
)
from hfvid.models.mvformer.video_processing_mvformer import MVFormerVideoProcessor

AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": MVFormerVideoProcessor}
PRESETS = MVFORMER_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "MVFORMER_PRESETS",
    "PRESETS",
    "MVFormerConfig",
    "MVFormerForPreTraining",
    "MVFormerForPreTrainingOutput",
    "MVFormerModel",
    "MVFormerPreTrainedModel",
    "MVFormerVideoProcessor",
]
