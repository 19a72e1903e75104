"""HDC (hierarchically decoupled spatial-temporal contrast) model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, MultiViewConfig, vit_presets


class HDCConfig(MultiViewConfig):
    r"""Configuration of an HDC model (Zhang & Crandall, WACV 2022): the contrastive objective decoupled into a spatial
    subtask and a temporal one, applied at several levels of the backbone.

    Each video gives two clips from different times, each seen through two augmentations: (A, A') and (B, B').
    - Spatial contrast: positives are clips from different times of one video (A with B, A' with B'): what stays
      the same over time.
    - Temporal contrast: positives are the same clip under different augmentations (A with A', B with B'); the
      video's clip from the other time is a hard negative (our choice, so that the subtask must tell times apart).
    Other videos of the global batch are negatives in both. Each level (``levels``, indices into the backbone's
    ``hidden_states``) has its own spatial and temporal projection heads on its globally pooled features.

    Args:
        levels (`list[int]`, defaults to `[-2, -1]`):
            Entries of the backbone's ``hidden_states`` the subtasks apply to (ResNets: stem, then each stage; ViTs:
            embeddings, then each block), each pooled over space and time; the last one is the backbone's own
            ``pooler_output`` (after a ViT's final norm). Our choice: the last two.
        level_weights (`list[float]`, *optional*):
            One weight per level (default: 0.5 for every level but the last, 1.0 for it; our choice).
        spatial_weight (`float`, defaults to 1.0), temporal_weight (`float`, defaults to 1.0):
            Weights of the two subtasks.
        loss_temperature (`float`, defaults to 0.1):
            InfoNCE temperature over cosine similarities.
        kwargs: the fields of `MultiViewConfig` (projection sizes, gap distribution, E-SSL's ``equivariance``) and
            `HfvidConfig`; the layout is fixed at 2 clips x 2 augmentations.
    """

    method_name = "HDC"
    required_views = 4
    model_type = "hdc"

    def __init__(
        self,
        levels: list[int] | None = None,
        level_weights: list[float] | None = None,
        spatial_weight: float = 1.0,
        temporal_weight: float = 1.0,
        loss_temperature: float = 0.1,
        clips_per_video: int = 2,
        views_per_clip: int = 2,
        **kwargs,
    ):
        levels = list(levels if levels is not None else [-2, -1])
        if not levels or len(set(levels)) != len(levels):
            raise ValueError(f"levels must name one or more different hidden states, got {levels}")
        level_weights = list(level_weights if level_weights is not None else [0.5] * (len(levels) - 1) + [1.0])
        if len(level_weights) != len(levels):
            raise ValueError(f"need one weight per level: {len(levels)} levels, {len(level_weights)} weights")
        if loss_temperature <= 0:
            raise ValueError(f"loss_temperature must be > 0, got {loss_temperature}")
        if (clips_per_video, views_per_clip) != (2, 2):
            raise ValueError(f"HDC takes 2 clips x 2 augmentations per video, got {clips_per_video} x {views_per_clip}")
        self.levels = levels
        self.level_weights = level_weights
        self.spatial_weight = spatial_weight
        self.temporal_weight = temporal_weight
        self.loss_temperature = loss_temperature
        super().__init__(clips_per_video=clips_per_video, views_per_clip=views_per_clip, **kwargs)


HDC_PRESETS = {
    "hdc-r3d18": {"backbone": "r3d_18"},
    "hdc-r2plus1d18": {"backbone": "r2plus1d_18"},
    # Without augmentation the two views of a clip would be identical: the tiny preset keeps the crops (scale
    # 0.6-1) and drops flips and colour changes (our choice, after the other tiny presets' runs; docs/learning.md).
    # On differences of consecutive frames: on RGB frames the tiny HDC stays at random-init level on SynthMotion's
    # motion classes; on differences its linear probe is above random init in every seed, paired +18.4 +- 26.9
    # points over 3 seeds (docs/results/frame_difference_more_methods.md).
    "hdc-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        "augmentation": {**NO_AUGMENTATION, "crop_scale": [0.6, 1.0]},
    },
}
HDC_PRESETS.update(vit_presets(HDC_PRESETS, "hdc"))
