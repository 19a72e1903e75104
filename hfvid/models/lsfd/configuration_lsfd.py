"""LSFD (long and short view feature decomposition) model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, HfvidConfig, equivariance_settings, vit_presets

LSFD_AGGREGATORS = ("mlp", "gru")


class LSFDConfig(HfvidConfig):
    r"""Configuration of an LSFD model (Behrmann et al., ICCV 2021): a long view of a video and ``num_short_views``
    short views tiling it; backbone features split by two heads into a stationary part (what stays the same over the
    long view) and a non-stationary part (what changes). Each short view's stationary embedding must pick its own
    video's long-view stationary embedding among the other videos'; an aggregator of the short views'
    non-stationary embeddings, in temporal order, must pick its own video's long-view non-stationary embedding.

    Args:
        num_short_views (`int`, defaults to 4):
            Short views per video: ``num_frames`` consecutive frames each, laid end to end. The long view covers the
            same frames with ``num_frames`` frames at step ``num_short_views`` (our choice: every view has the same
            shape, so one backbone pass encodes them all).
        aggregator (`str`, defaults to `"mlp"`):
            How the short views' non-stationary embeddings are combined in order: `"mlp"` (concatenated, then
            Linear-BN-ReLU-Linear) or `"gru"` (a GRU over them, its last state projected).
        stationary_weight (`float`, defaults to 1.0), non_stationary_weight (`float`, defaults to 1.0):
            Weights of the two contrastive terms.
        loss_temperature (`float`, defaults to 0.1):
            Temperature of both terms (InfoNCE over cosine similarities, negatives: the other videos of the global
            batch).
        projection_dim (`int`, defaults to 128):
            Size of each part (stationary and non-stationary).
        projection_hidden_dim (`int`, defaults to 2048):
            Hidden width of the two heads (Linear-BN-ReLU-Linear each; our choice, the paper allows heads or a
            channel split) and of the aggregator.
        equivariance (`dict`, *optional*):
            E-SSL's equivariance term (`hfvid.models.configuration_utils.equivariance_settings`).
        kwargs: the fields of `HfvidConfig`.

    `LSFDModel` (`AutoModel`) returns both parts (``stationary``, ``non_stationary``) beside the backbone's
    ``pooler_output``; `training/evaluate.py --feature stationary|non_stationary|both` scores either or both.
    """

    method_name = "LSFD"
    model_type = "lsfd"

    def __init__(
        self,
        num_short_views: int = 4,
        aggregator: str = "mlp",
        stationary_weight: float = 1.0,
        non_stationary_weight: float = 1.0,
        loss_temperature: float = 0.1,
        projection_dim: int = 128,
        projection_hidden_dim: int = 2048,
        equivariance: dict | None = None,
        **kwargs,
    ):
        if num_short_views < 2:
            raise ValueError(f"num_short_views must be >= 2, got {num_short_views}")
        if aggregator not in LSFD_AGGREGATORS:
            raise ValueError(f"aggregator must be one of {LSFD_AGGREGATORS}, got {aggregator!r}")
        if loss_temperature <= 0:
            raise ValueError(f"loss_temperature must be > 0, got {loss_temperature}")
        self.num_short_views = num_short_views
        self.aggregator = aggregator
        self.stationary_weight = stationary_weight
        self.non_stationary_weight = non_stationary_weight
        self.loss_temperature = loss_temperature
        self.projection_dim = projection_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.equivariance = equivariance_settings(equivariance)
        super().__init__(**kwargs)

    @property
    def views_per_video(self) -> int:
        """Pre-training clips per video: the long view, then the short views in temporal order."""
        return 1 + self.num_short_views


LSFD_PRESETS = {
    "lsfd-r3d18": {"backbone": "r3d_18"},
    "lsfd-r2plus1d18": {"backbone": "r2plus1d_18"},
    # 4 short views of 8 frames tile SynthMotion's 32-frame videos; the long view is the whole video at step 4.
    # On differences of consecutive frames: on RGB frames the tiny LSFD stays at random-init level on SynthMotion's
    # motion classes; on differences its linear probe is above random init in every seed, paired +45.4 +- 14.3
    # points over 3 seeds (docs/results/frame_difference_more_methods.md).
    "lsfd-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        "augmentation": NO_AUGMENTATION,
    },
}
LSFD_PRESETS.update(vit_presets(LSFD_PRESETS, "lsfd"))
