"""BYOL model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import MultiViewConfig, check_momentum, vit_presets


class BYOLConfig(MultiViewConfig):
    r"""Configuration of a BYOL video model: an online encoder (backbone, projector, predictor) learns to
    predict the projection that a momentum (EMA) target encoder gives the other view of the same video. No
    negatives; the predictor and the slowly moving target keep the embeddings from collapsing.

    Args:
        momentum (`float`, defaults to 0.99):
            EMA factor of the target encoder, constant. BYOL starts at 0.996 and raises it to 1 with a cosine
            schedule over long ImageNet runs; a constant 0.99 is our choice for short runs, where the target
            must follow the online encoder faster.
        predictor_hidden_dim (`int`, defaults to 2048):
            Hidden width of the predictor MLP (Linear-BN-ReLU-Linear, projection_dim -> projection_dim). BYOL
            uses 4096; 2048 (our choice) matches the projector's hidden width.
        projection_dim (`int`, defaults to 256):
            Size of the projections and predictions (BYOL's value).
        kwargs: the fields of `MultiViewConfig` (view layout, projector hidden width, 2048 here where BYOL
            uses 4096) and `HfvidConfig` (backbone, num_frames, image_size, classifier_dropout). The view
            layout must give exactly two views per video.
    """

    method_name = "BYOL"
    required_views = 2
    model_type = "byol"

    def __init__(self, momentum: float = 0.99, predictor_hidden_dim: int = 2048, projection_dim: int = 256, **kwargs):
        check_momentum(momentum)
        self.momentum = momentum
        self.predictor_hidden_dim = predictor_hidden_dim
        super().__init__(projection_dim=projection_dim, **kwargs)


BYOL_PRESETS = {
    "byol-r3d18": {"backbone": "r3d_18"},
    "byol-r2plus1d18": {"backbone": "r2plus1d_18"},
    # On differences of consecutive frames: on RGB frames the tiny BYOL stays at random-init level on SynthMotion's
    # motion classes. Meant for 32 videos a step (--batch_size 32, 500 steps): there it is above random init on every
    # protocol in every seed; at 8 in 2 seeds of 3 under session 17's data order (docs/results/byol_batch32.md,
    # docs/results/ssl_methods_s18.md).
    "byol-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        "predictor_hidden_dim": 128,
    },
}
BYOL_PRESETS.update(vit_presets(BYOL_PRESETS, "byol"))
