"""SimSiam model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, MultiViewConfig, vit_presets


class SimSiamConfig(MultiViewConfig):
    r"""Configuration of a SimSiam video model: one encoder (backbone + projector) and a predictor; each view's
    prediction is pulled towards the other view's projection, whose gradient is stopped. No negatives and no
    momentum encoder; the stop-gradient alone keeps the embeddings from collapsing.

    Args:
        predictor_hidden_dim (`int`, *optional*):
            Hidden width of the predictor MLP (Linear-BN-ReLU-Linear, projection_dim -> projection_dim).
            Defaults to projection_dim // 4, SimSiam's bottleneck (512 for 2048).
        projection_dim (`int`, defaults to 2048):
            Size of the projections and predictions (SimSiam's value).
        kwargs: the fields of `MultiViewConfig` (view layout, projector hidden width: 2048, SimSiam's value) and
            `HfvidConfig` (backbone, num_frames, image_size, classifier_dropout). The view layout must give
            exactly two views per video. The projector is Linear-BN-ReLU-Linear-BN (the last BatchNorm
            without affine parameters, as in SimSiam); SimSiam's projector has one more hidden layer, the
            2-layer one is our choice for small video runs.
    """

    method_name = "SimSiam"
    required_views = 2
    model_type = "simsiam"

    def __init__(
        self,
        predictor_hidden_dim: int | None = None,
        projection_dim: int = 2048,
        projection_hidden_dim: int = 2048,
        **kwargs,
    ):
        self.predictor_hidden_dim = predictor_hidden_dim if predictor_hidden_dim is not None else projection_dim // 4
        if self.predictor_hidden_dim < 1:
            raise ValueError(f"predictor_hidden_dim must be >= 1, got {self.predictor_hidden_dim}")
        super().__init__(projection_dim=projection_dim, projection_hidden_dim=projection_hidden_dim, **kwargs)


SIMSIAM_PRESETS = {
    "simsiam-r3d18": {"backbone": "r3d_18"},
    "simsiam-r2plus1d18": {"backbone": "r2plus1d_18"},
    # The tiny preset sees frame differences and no augmentation: on RGB frames, or with the per-view crops (which
    # rescale apparent speed) and flips (which swap the directions), its features stayed at random-init level on
    # SynthMotion's motion classes. Without them, at 8 videos a step, it was above in 1 of 3 seeds in every
    # reproducible run (its loss swinging between -1.0 and -0.1 to the end); it needs 32 videos a step
    # (--batch_size 32, 500 steps: the same videos seen), where it is above random init in every seed
    # (docs/learning.md, session 14; with E-SSL's term, equivariance=..., it is above at 8 too). What the 32 give is
    # BatchNorm's batch: 8 x 4 accumulated is no better than 8 (session 15), so 32 per process.
    "simsiam-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "augmentation": NO_AUGMENTATION,
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        "predictor_hidden_dim": 16,
    },
}
SIMSIAM_PRESETS.update(vit_presets(SIMSIAM_PRESETS, "simsiam"))
