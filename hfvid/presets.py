"""Named configurations of every hfvid method: ``get_config("transrank-r3d18-tiny")``, and loading a
model for pre-training from such a name or from a saved model."""

from __future__ import annotations

import os

from transformers import AutoConfig, AutoModelForPreTraining, AutoVideoProcessor, PreTrainedConfig

from hfvid.data.sources import looks_local
from hfvid.models import METHODS, method_of, processor_for_config


def _presets() -> dict[str, tuple[type[PreTrainedConfig], dict]]:
    return {
        name: (method.AUTO_CLASSES["AutoConfig"], kwargs) for method in METHODS for name, kwargs in method.PRESETS.items()
    }


def list_configs() -> list[str]:
    """Names of all presets, sorted."""
    return sorted(_presets())


def check_fields(config_class: type[PreTrainedConfig], fields, where: str) -> None:
    """Raise ValueError for names that are not fields of ``config_class`` (a typo would otherwise be saved as an
    extra attribute and change nothing), listing the valid ones."""
    valid = set(config_class().to_dict()) | {"num_labels", "id2label", "label2id"} | set(getattr(config_class, "attribute_map", {}))
    unknown = sorted(set(fields) - valid)
    if unknown:
        raise ValueError(f"{where}: {config_class.__name__} has no field {', '.join(map(repr, unknown))}; valid fields: {', '.join(sorted(valid))}")


def get_config(name: str, **overrides) -> PreTrainedConfig:
    """The config of preset ``name``; ``overrides`` replace single fields (e.g. ``num_labels=10``); an unknown field
    is an error that lists the valid ones."""
    presets = _presets()
    if name not in presets:
        raise ValueError(f"unknown config {name!r}; available: {', '.join(sorted(presets))}")
    config_class, kwargs = presets[name]
    check_fields(config_class, overrides, f"overrides of {name}")
    return config_class(**{**kwargs, **overrides})


def check_pretrainable(classes: dict, config, name: str) -> None:
    """ValueError for a method without a self-supervised objective (Sideways trains a classifier with labels)."""
    if "AutoModelForPreTraining" not in classes:
        raise ValueError(
            f"{name} is a {getattr(config, 'method_name', config.model_type)} model, which has no self-supervised "
            f"pre-training objective: train it with labels (hfvid-finetune --model {name} --dataset ...)"
        )


def load_for_pretraining(name_or_path: str, **config_overrides):
    """(model for pre-training, video processor) from a preset name (fresh weights) or a saved model
    folder / Hub id (its weights and processor, to continue pre-training)."""
    if name_or_path in _presets():
        config = get_config(name_or_path, **config_overrides)
        check_pretrainable(method_of(config).AUTO_CLASSES, config, name_or_path)
        # The method's own class: a transformers-native method's config subclass is not a key of the Auto mappings.
        return method_of(config).AUTO_CLASSES["AutoModelForPreTraining"]._from_config(config), processor_for_config(config)
    if not os.path.isdir(os.path.expanduser(name_or_path)) and looks_local(name_or_path):
        raise FileNotFoundError(
            f"no saved model folder at {name_or_path}; --model takes a folder, a Hub id or a preset: {', '.join(list_configs())}"
        )
    config = AutoConfig.from_pretrained(name_or_path)
    try:
        # The method's own classes: transformers has no pre-training class for every model type (V-JEPA 2), and a
        # transformers-native folder names transformers' processor, which cannot pre-train.
        classes = method_of(config).AUTO_CLASSES
    except ValueError:  # a method from outside hfvid, registered with the Auto classes
        classes = {"AutoConfig": type(config), "AutoModelForPreTraining": AutoModelForPreTraining, "AutoVideoProcessor": AutoVideoProcessor}
    check_pretrainable(classes, config, name_or_path)
    check_fields(classes["AutoConfig"], config_overrides, f"overrides of {name_or_path}")
    model = classes["AutoModelForPreTraining"].from_pretrained(name_or_path, **config_overrides)
    return model, classes["AutoVideoProcessor"].from_pretrained(name_or_path)
