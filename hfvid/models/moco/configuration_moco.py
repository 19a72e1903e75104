"""MoCo model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, MultiViewConfig, check_momentum, vit_presets


class MoCoConfig(MultiViewConfig):
    r"""Configuration of a MoCo v2-style video model: a query encoder, its momentum (EMA) copy that encodes
    the keys, and a queue of past keys as negatives. The positive of a clip is another clip of the same
    video (its start drawn by CVRL's decreasing-gap sampling).

    Args:
        loss_temperature (`float`, defaults to 0.2):
            InfoNCE temperature (MoCo v2's value; not named `temperature`, which transformers reserves for generation).
        momentum (`float`, defaults to 0.99):
            EMA factor of the key encoder. MoCo v2 uses 0.999 over long ImageNet runs; 0.99 (RINCE's value)
            suits shorter video runs.
        queue_size (`int`, defaults to 65536):
            Number of past keys kept as negatives.
        reverse_negatives (`bool`, defaults to `False`):
            hfvid's option, not MoCo's: each query also gets its own key clip played backwards as a negative (an
            arrow-of-time contrast), so that the embedding must tell a motion from its reverse, which instance
            discrimination alone never asks for (see docs/learning.md). Use it with direction-preserving views
            (``flip_p=0``): a flipped query turns left into right.
        kwargs: the fields of `MultiViewConfig` (view layout, projection head) and `HfvidConfig` (backbone,
            num_frames, image_size, classifier_dropout). The projector is Linear-BN-ReLU-Linear (MoCo v2's
            head plus BatchNorm, our choice for small video batches).
    """

    method_name = "MoCo"
    required_views = 2
    model_type = "moco"

    def __init__(
        self,
        loss_temperature: float = 0.2,
        momentum: float = 0.99,
        queue_size: int = 65536,
        reverse_negatives: bool = False,
        **kwargs,
    ):
        check_momentum(momentum)
        if loss_temperature <= 0:
            raise ValueError(f"loss_temperature must be > 0, got {loss_temperature}")
        self.loss_temperature = loss_temperature
        self.momentum = momentum
        self.queue_size = queue_size
        self.reverse_negatives = reverse_negatives
        super().__init__(**kwargs)


MOCO_PRESETS = {
    "moco-r3d18": {"backbone": "r3d_18"},
    "moco-r2plus1d18": {"backbone": "r2plus1d_18"},
    # The tiny preset sees frame differences and no augmentation: on RGB frames, or with the per-view crops (which
    # rescale apparent speed) and flips (which swap the directions), its features stayed at random-init level on
    # SynthMotion's motion classes; without them it is above in every seed (docs/learning.md, session 10).
    "moco-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "augmentation": NO_AUGMENTATION,
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        "queue_size": 256,
    },
}
MOCO_PRESETS.update(vit_presets(MOCO_PRESETS, "moco"))
