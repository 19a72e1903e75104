"""RINCE model configuration."""

from __future__ import annotations

from hfvid.losses.contrastive import RINCE_VARIANTS
from hfvid.models.configuration_utils import NO_AUGMENTATION, MultiViewConfig, check_momentum, vit_presets


class RINCEConfig(MultiViewConfig):
    r"""Configuration of a RINCE video model: MoCo's query encoder, momentum key encoder and key queue, trained
    with ranked positives instead of one positive.

    Each video gives ``clips_per_video`` clips at nearby times, each seen through two augmentations (one for
    the query encoder, one for the key encoder). For a query clip, rank 1 is the key of the same clip (other
    augmentation), rank 2 the keys of the other clips of the same video (in the batch, and in the queue,
    which stores each key's video id); keys of other videos are negatives.

    Args:
        variant (`str`, defaults to `"out-in"`):
            `"in"`, `"out"` or `"out-in"` (rank 1 "out", lower ranks "in"); see `hfvid.losses.rince_loss`.
            `"out-in"` as default is our choice.
        rank_similarities (`list[float]`, defaults to `[1.0, 0.75]`):
            The similarity each rank stands for; temperatures follow as
            ``temperature_min + (1 - sim) * (temperature_max - temperature_min)``. 0.75 for rank 2 follows the
            official code's value for the second rank (our choice for "another clip of the same video").
        temperature_min (`float`, defaults to 0.1), temperature_max (`float`, defaults to 0.6):
            Temperature range (the official README's values).
        momentum (`float`, defaults to 0.99):
            EMA factor of the key encoder (RINCE's value).
        queue_size (`int`, defaults to 16384):
            Number of past keys (and their video ids) kept.
        kwargs: the fields of `MultiViewConfig` (``clips_per_video`` defaults to 2; ``views_per_clip`` must
            be 2) and `HfvidConfig`.
    """

    method_name = "RINCE"
    model_type = "rince"

    def __init__(
        self,
        variant: str = "out-in",
        rank_similarities: list[float] | tuple[float, ...] = (1.0, 0.75),
        temperature_min: float = 0.1,
        temperature_max: float = 0.6,
        momentum: float = 0.99,
        queue_size: int = 16384,
        views_per_clip: int = 2,
        **kwargs,
    ):
        if variant not in RINCE_VARIANTS:
            raise ValueError(f"variant must be one of {RINCE_VARIANTS}, got {variant!r}")
        if views_per_clip != 2:
            raise ValueError(
                f"RINCE sees each clip through 2 augmentations (query, key), got views_per_clip={views_per_clip}"
            )
        if not 0 < temperature_min <= temperature_max:
            raise ValueError(f"need 0 < temperature_min <= temperature_max, got {temperature_min}, {temperature_max}")
        check_momentum(momentum)
        self.variant = variant
        self.rank_similarities = list(rank_similarities)
        self.temperature_min = temperature_min
        self.temperature_max = temperature_max
        self.momentum = momentum
        self.queue_size = queue_size
        super().__init__(views_per_clip=views_per_clip, **kwargs)


RINCE_PRESETS = {
    "rince-r3d18": {"backbone": "r3d_18"},
    "rince-r2plus1d18": {"backbone": "r2plus1d_18"},
    # On differences of consecutive frames: on RGB frames the tiny RINCE stays at random-init level on SynthMotion's
    # motion classes; on differences its linear probe is above random init in every seed, paired +24.3 +- 7.8 points
    # over 3 seeds (docs/results/frame_difference_more_methods.md). Without augmentation (as MoCo's, SimSiam's and
    # SimCLR's: per-view crops rescale the apparent speed, flips swap the directions) it is above the augmented
    # preset in every seed, paired +15.1 +- 14.9 (docs/results/rince_no_augmentation.md).
    "rince-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "augmentation": NO_AUGMENTATION,
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        "queue_size": 512,
    },
}
RINCE_PRESETS.update(vit_presets(RINCE_PRESETS, "rince"))
