"""hfvid's methods, one folder each. A method package exposes ``AUTO_CLASSES`` (transformers Auto class
name -> its class, the config under ``"AutoConfig"``) and ``PRESETS`` (preset name -> config kwargs). A method that
pre-trains transformers' own model classes (VideoMAE, V-JEPA) sets ``TRANSFORMERS_NATIVE = True``: its config class
subclasses transformers' config of that model type, and the Auto classes are transformers' own, left as they are."""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)

from hfvid.models import (
    bfp,
    brave,
    byol,
    hdc,
    lsfd,
    moco,
    mvformer,
    nextframe,
    rince,
    sideways,
    simclr,
    simsiam,
    transrank,
    videomae,
    vjepa,
)

METHODS = (transrank, moco, rince, simclr, byol, simsiam, bfp, brave, lsfd, hdc, nextframe, videomae, vjepa, sideways, mvformer)
_MODEL_AUTO_CLASSES = {
    "AutoModel": AutoModel,
    "AutoModelForPreTraining": AutoModelForPreTraining,
    "AutoModelForVideoClassification": AutoModelForVideoClassification,
}


def register_auto_classes() -> None:
    """Make transformers' Auto classes (config, models, video processor) know every hfvid method."""
    for method in METHODS:
        if getattr(method, "TRANSFORMERS_NATIVE", False):
            continue  # transformers' Auto classes know them already
        config_class = method.AUTO_CLASSES["AutoConfig"]
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
        for auto_name, cls in method.AUTO_CLASSES.items():
            if auto_name == "AutoVideoProcessor":
                AutoVideoProcessor.register(config_class, video_processor_class=cls, exist_ok=True)
            elif auto_name != "AutoConfig":
                _MODEL_AUTO_CLASSES[auto_name].register(config_class, cls, exist_ok=True)


def method_of(config):
    """The method package that ``config`` (a config object) belongs to: the one whose config class it is an instance
    of, or, for a transformers-native method, whose model type it has (a saved VideoMAE folder loads as
    transformers' `VideoMAEConfig`). Raises ValueError for any other config."""
    for method in METHODS:
        config_class = method.AUTO_CLASSES["AutoConfig"]
        if isinstance(config, config_class) or (
            getattr(method, "TRANSFORMERS_NATIVE", False) and getattr(config, "model_type", None) == config_class.model_type
        ):
            return method
    raise ValueError(f"{type(config).__name__} is not the config of an hfvid method")


def method_config(config):
    """``config`` as its hfvid method's config class: a transformers-native folder (VideoMAE, V-JEPA) loads as
    transformers' config class, and model cards need the method's (its template's folder, ``method_name``,
    ``describe_encoder``). Any other config is returned as it is."""
    try:
        config_class = method_of(config).AUTO_CLASSES["AutoConfig"]
    except ValueError:  # a method from outside hfvid, registered with the Auto classes: its class is its own
        return config
    return config if isinstance(config, config_class) else config_class.from_dict(config.to_dict())


def processor_for_config(config):
    """The video processor of the method that ``config`` belongs to, set up for that config."""
    return method_of(config).AUTO_CLASSES["AutoVideoProcessor"].from_model_config(config)

