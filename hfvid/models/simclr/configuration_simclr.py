"""SimCLR model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, MultiViewConfig, vit_presets


class SimCLRConfig(MultiViewConfig):
    r"""Configuration of a SimCLR / CVRL-style video model: two views of each video through one encoder,
    contrasted with NT-Xent against the other videos of the (global) batch. By default the two views are two
    clips of a video drawn with CVRL's decreasing-gap sampling, each with its own augmentation.

    Args:
        loss_temperature (`float`, defaults to 0.1):
            NT-Xent temperature (CVRL's value; not named `temperature`, which transformers reserves for
            generation).
        reverse_negatives (`bool`, defaults to `False`):
            hfvid's option, not SimCLR's: both views of each video are also encoded played backwards, and each
            anchor gets the two reversed clips of its own video as extra negatives (an arrow-of-time contrast, at
            twice the compute). Use it with direction-preserving views (``flip_p=0``).
        kwargs: the fields of `MultiViewConfig` (view layout, projection head) and `HfvidConfig` (backbone,
            num_frames, image_size, classifier_dropout). The view layout must give exactly two views per
            video. The projector is Linear-BN-ReLU-Linear (SimCLR v1's 2-layer head; no deeper
            SimCLR v2-style head, our choice for small video runs).
    """

    method_name = "SimCLR"
    required_views = 2
    model_type = "simclr"

    def __init__(self, loss_temperature: float = 0.1, reverse_negatives: bool = False, **kwargs):
        if loss_temperature <= 0:
            raise ValueError(f"loss_temperature must be > 0, got {loss_temperature}")
        self.loss_temperature = loss_temperature
        self.reverse_negatives = reverse_negatives
        super().__init__(**kwargs)


SIMCLR_PRESETS = {
    "simclr-r3d18": {"backbone": "r3d_18"},
    "simclr-r2plus1d18": {"backbone": "r2plus1d_18"},
    # The tiny preset sees frame differences and no augmentation (as MoCo's and SimSiam's), and needs 32 videos a
    # step (--batch_size 32): at 8 (14 negatives) its loss fell to ~0.01 and the features stayed at random-init level
    # in 2 seeds of 3; at 32 (62 negatives; 500 steps, the same videos seen) above random init in every seed
    # (docs/learning.md, session 11).
    "simclr-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "augmentation": NO_AUGMENTATION,
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
    },
}
SIMCLR_PRESETS.update(vit_presets(SIMCLR_PRESETS, "simclr"))
