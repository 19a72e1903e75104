"""VideoMAE pre-training (Tong et al., NeurIPS 2022) of transformers' own `VideoMAEForPreTraining`: hfvid adds the
masking (tube or random, as named views from the video processor), the data, the loop, evaluation and cards. The
models are transformers' classes, unchanged, so a saved folder is a plain ``videomae`` checkpoint that
`VideoMAEModel.from_pretrained` and `VideoMAEForVideoClassification.from_pretrained` load without hfvid.

``TRANSFORMERS_NATIVE``: transformers' Auto classes already know these classes; hfvid registers nothing for them.
"""

from transformers import VideoMAEForPreTraining, VideoMAEForVideoClassification, VideoMAEModel

from hfvid.models.videomae.configuration_videomae import VIDEOMAE_PRESETS, VideoMAEPreTrainingConfig
from hfvid.models.videomae.video_processing_videomae import VideoMAEPreTrainingVideoProcessor

TRANSFORMERS_NATIVE = True
AUTO_CLASSES = {
    "AutoConfig": VideoMAEPreTrainingConfig,
    "AutoModel": VideoMAEModel,
    "AutoModelForPreTraining": VideoMAEForPreTraining,
    "AutoModelForVideoClassification": VideoMAEForVideoClassification,
    "AutoVideoProcessor": VideoMAEPreTrainingVideoProcessor,
}
PRESETS = VIDEOMAE_PRESETS

__all__ = ["AUTO_CLASSES", "PRESETS", "VIDEOMAE_PRESETS", "VideoMAEPreTrainingConfig", "VideoMAEPreTrainingVideoProcessor"]
