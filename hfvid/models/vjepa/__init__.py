"""V-JEPA pre-training (Bardes et al., 2024) of transformers' own V-JEPA 2 encoder and predictor: hfvid adds the
multi-block masks (named views from the video processor), the context encoder, the EMA target with its momentum
schedule (per-step hook), the L1 loss on layer-normed targets, the data, the loop, evaluation and cards. A saved
folder is a plain ``vjepa2`` checkpoint: `VJEPA2Model.from_pretrained` loads the (target) encoder and predictor
without hfvid.

``TRANSFORMERS_NATIVE``: transformers' Auto classes know the saved model type; hfvid registers nothing for it.
"""

from hfvid.models.vjepa.configuration_vjepa import VJEPA_PRESETS, VJEPAPreTrainingConfig
from hfvid.models.vjepa.modeling_vjepa import AUTO_CLASSES as MODEL_AUTO_CLASSES
from hfvid.models.vjepa.modeling_vjepa import VJEPAForPreTraining, VJEPAForPreTrainingOutput
from hfvid.models.vjepa.video_processing_vjepa import VJEPAPreTrainingVideoProcessor

TRANSFORMERS_NATIVE = True
AUTO_CLASSES = {**MODEL_AUTO_CLASSES, "AutoVideoProcessor": VJEPAPreTrainingVideoProcessor}
PRESETS = VJEPA_PRESETS

__all__ = [
    "AUTO_CLASSES",
    "PRESETS",
    "VJEPA_PRESETS",
    "VJEPAForPreTraining",
    "VJEPAForPreTrainingOutput",
    "VJEPAPreTrainingConfig",
    "VJEPAPreTrainingVideoProcessor",
]
