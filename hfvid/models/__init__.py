"""hfvid's methods, one folder each. A method package exposes ``AUTO_CLASSES`` (transformers Auto class
name -> its class, the config under ``"AutoConfig"``) and ``PRESETS`` (preset name -> config kwargs)."""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)

from hfvid.models import bfp, brave, byol, hdc, lsfd, moco, rince, simclr, simsiam, transrank

METHODS = (transrank, moco, rince, simclr, byol, simsiam, bfp, brave, lsfd, hdc)
_MODEL_AUTO_CLASSES = {
    "AutoModel": AutoModel,
    "AutoModelForPreTraining": AutoModelForPreTraining,
    "AutoModelForVideoClassification": AutoModelForVideoClassification,
}


def register_auto_classes() -> None:
    """Make transformers' Auto classes (config, models, video processor) know every hfvid method."""
    for method in METHODS:
        config_class = method.AUTO_CLASSES["AutoConfig"]
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
        for auto_name, cls in method.AUTO_CLASSES.items():
            if auto_name == "AutoVideoProcessor":
                AutoVideoProcessor.register(config_class, video_processor_class=cls, exist_ok=True)
            elif auto_name != "AutoConfig":
                _MODEL_AUTO_CLASSES[auto_name].register(config_class, cls, exist_ok=True)


def processor_for_config(config):
    """The video processor of the method that ``config`` belongs to, set up for that config."""
    for method in METHODS:
        if isinstance(config, method.AUTO_CLASSES["AutoConfig"]):
            return method.AUTO_CLASSES["AutoVideoProcessor"].from_model_config(config)
    raise ValueError(f"{type(config).__name__} is not the config of an hfvid method")

