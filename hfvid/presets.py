"""Named configurations of every hfvid method: ``get_config("transrank-r3d18-tiny")``, and loading a
model for pre-training from such a name or from a saved model."""

from __future__ import annotations

from transformers import AutoModelForPreTraining, AutoVideoProcessor, PreTrainedConfig

from hfvid.models import METHODS, processor_for_config


def _presets() -> dict[str, tuple[type[PreTrainedConfig], dict]]:
    return {
        name: (method.AUTO_CLASSES["AutoConfig"], kwargs) for method in METHODS for name, kwargs in method.PRESETS.items()
    }


def list_configs() -> list[str]:
    """Names of all presets, sorted."""
    return sorted(_presets())


def get_config(name: str, **overrides) -> PreTrainedConfig:
    """The config of preset ``name``; ``overrides`` replace single fields (e.g. ``num_labels=10``)."""
    presets = _presets()
    if name not in presets:
        raise ValueError(f"unknown config {name!r}; available: {', '.join(sorted(presets))}")
    config_class, kwargs = presets[name]
    return config_class(**{**kwargs, **overrides})


def load_for_pretraining(name_or_path: str, **config_overrides):
    """(model for pre-training, video processor) from a preset name (fresh weights) or a saved model
    folder / Hub id (its weights and processor, to continue pre-training)."""
    if name_or_path in _presets():
        config = get_config(name_or_path, **config_overrides)
        return AutoModelForPreTraining.from_config(config), processor_for_config(config)
    model = AutoModelForPreTraining.from_pretrained(name_or_path, **config_overrides)
    return model, AutoVideoProcessor.from_pretrained(name_or_path)
