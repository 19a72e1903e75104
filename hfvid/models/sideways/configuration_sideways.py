"""Sideways model configuration."""

from __future__ import annotations

from hfvid.backbones.framewise import FRAMEWISE_PRESETS
from hfvid.models.configuration_utils import HfvidConfig

TRAINING_MODES = ("bptt", "sideways")


class SidewaysConfig(HfvidConfig):
    r"""Configuration of a frame-wise causal video network pipelined over depth (`hfvid.backbones.framewise`) and the
    way its classifier trains.

    Args:
        training_mode (`str`, defaults to `"sideways"`):
            `"bptt"`: standard backpropagation through time over the clip (exact gradients, memory growing with the
            clip); `"sideways"`: Sideways' pipelined approximate gradients (memory flat in the clip length). With the
            backbone's `temporal_skips` the Sideways mode is Skip-Sideways. Evaluation is the same in every mode.
        kwargs: the fields of `HfvidConfig` (backbone: `framewise_r18` or `framewise_tiny`, or a config dict with
            `arch: framewise`; num_frames must exceed the backbone's delay, its number of units - 1).
    """

    model_type = "sideways"

    def __init__(self, training_mode: str = "sideways", **kwargs):
        if training_mode not in TRAINING_MODES:
            raise ValueError(f"training_mode must be one of {TRAINING_MODES}, got {training_mode!r}")
        self.training_mode = training_mode
        kwargs.setdefault("backbone", "framewise_r18")
        super().__init__(**kwargs)
        if self.backbone["arch"] != "framewise":
            raise ValueError(f"Sideways needs a frame-wise backbone (arch 'framewise'), got arch {self.backbone['arch']!r}")
        if self.backbone["gradient_mode"] != "bptt":
            raise ValueError(
                "the classifier trains by its own training_mode (its loss is per time step); leave the backbone's "
                "gradient_mode (for per-clip losses of other methods) at 'bptt'"
            )

    @property
    def method_name(self) -> str:
        if self.training_mode == "bptt":
            return "frame-wise network, BPTT"
        return "Skip-Sideways" if self.backbone["temporal_skips"] else "Sideways"


def _presets() -> dict[str, dict]:
    presets = {}
    for size, backbone, extra in (
        ("framewise18", "framewise_r18", {"num_frames": 32, "image_size": 112}),
        ("framewise-tiny", "framewise_tiny", {"num_frames": 32, "image_size": 32, "augmentation": {"crop_scale": [1.0, 1.0]}}),
    ):
        modes = (("bptt", "bptt", False), ("bptt-skip", "bptt", True), ("sideways", "sideways", False), ("skip-sideways", "sideways", True))
        for name, mode, skips in modes:
            backbone_config = {**FRAMEWISE_PRESETS[backbone], "temporal_skips": skips}
            presets[f"{name}-{size}"] = {"backbone": backbone_config, "training_mode": mode, **extra}
    return presets


SIDEWAYS_PRESETS = _presets()
