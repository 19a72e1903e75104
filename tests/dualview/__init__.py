"""A method that exists only in the tests: it proves that a method is a folder. Nothing in training/, hfvid/data/
or another method knows it, yet training/pretrain.py pre-trains it (tests/test_named_views.py).

Two backbones (a narrow one on a short, sharp clip; a broad one on a longer clip at a lower resolution, as in
BraVe), two views of different length and resolution, a loss between them, and per-optimiser-step work (an EMA
target of the broad branch and a step counter) in ``after_optimizer_step``. Importing this package registers it
with transformers' Auto classes.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)

from .modeling_dualview import AUTO_CLASSES, DualViewConfig, DualViewForPreTraining, DualViewVideoProcessor

AutoConfig.register(DualViewConfig.model_type, DualViewConfig, exist_ok=True)
for auto, name in ((AutoModel, "AutoModel"), (AutoModelForPreTraining, "AutoModelForPreTraining"),
                   (AutoModelForVideoClassification, "AutoModelForVideoClassification")):  # fmt: skip
    auto.register(DualViewConfig, AUTO_CLASSES[name], exist_ok=True)
AutoVideoProcessor.register(DualViewConfig, video_processor_class=DualViewVideoProcessor, exist_ok=True)

__all__ = ["AUTO_CLASSES", "DualViewConfig", "DualViewForPreTraining", "DualViewVideoProcessor"]
