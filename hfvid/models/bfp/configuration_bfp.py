"""BFP (bidirectional feature prediction) model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, HfvidConfig, equivariance_settings, vit_presets

BFP_PREDICTIONS = ("bidirectional", "future", "past")
BLOCKS = ("past", "present", "future")
BLOCK_POOLINGS = ("mean", "grid")


class BFPConfig(HfvidConfig):
    r"""Configuration of a BFP model (Behrmann, Gall & Noroozi, WACV 2021): three consecutive blocks of a video
    (past, present, future) through one backbone; from the present block's features a predictor must pick the
    joint embedding of (past, future) of its own video among those of the other videos of the (global) batch,
    and among the swapped pairs (future, past), its own swapped pair being a temporal hard negative.

    Args:
        prediction (`str`, defaults to `"bidirectional"`):
            What the present predicts: `"bidirectional"` (the joint embedding of past and future, the paper's
            method), `"future"` or `"past"` (one block alone, the paper's ablations).
        swap_negatives (`bool`, defaults to `True`):
            With `"bidirectional"`: every video's swapped pair (future, past) is a negative too. `False` is the
            paper's ablation without temporal hard negatives. Must be `False` for `"future"` and `"past"`,
            which have no pair to swap.
        block_pooling (`str`, defaults to `"grid"`):
            What the heads see of a block: `"grid"`, the backbone's last feature map averaged over time and pooled
            to ``pooling_grid`` x ``pooling_grid`` cells, concatenated (where things are, so that the present can
            tell where they were and will be; the paper predicts spatial feature maps), or `"mean"`, the backbone's
            pooled features.
        pooling_grid (`int`, defaults to 2):
            Cells per side of the `"grid"` pooling.
        block_gap (`int`, defaults to 0):
            Frames left out between past and present and between present and future (our choice: the paper's
            blocks are adjacent).
        loss_temperature (`float`, defaults to 0.1):
            Temperature of the contrastive loss over cosine similarities (our choice; the paper's exact scoring is
            not in the abstract, and CVRL-style 0.1 is hfvid's value for its other contrastive methods).
        projection_dim (`int`, defaults to 128):
            Size of the prediction and target embeddings.
        projection_hidden_dim (`int`, defaults to 2048):
            Hidden width of the predictor MLP (present -> prediction) and of the target MLP
            (concatenated block features -> joint embedding), each Linear-BN-ReLU-Linear (our choice).
        equivariance (`dict`, *optional*):
            E-SSL's equivariance term on top of BFP's loss (`hfvid.models.configuration_utils.equivariance_settings`).
        kwargs: the fields of `HfvidConfig` (backbone, num_frames = frames per block, image_size, ...).

    Each block is encoded by the same backbone as one clip; the heads see it as a small grid of pooled features
    (our choice: one vector per block, laid out by place, where the paper predicts spatial feature maps). The
    target MLP sees the two block vectors concatenated, so (past, future) and (future, past) give different
    embeddings.
    """

    method_name = "BFP"
    model_type = "bfp"

    def __init__(
        self,
        prediction: str = "bidirectional",
        swap_negatives: bool = True,
        block_pooling: str = "grid",
        pooling_grid: int = 2,
        block_gap: int = 0,
        loss_temperature: float = 0.1,
        projection_dim: int = 128,
        projection_hidden_dim: int = 2048,
        equivariance: dict | None = None,
        **kwargs,
    ):
        if prediction not in BFP_PREDICTIONS:
            raise ValueError(f"prediction must be one of {BFP_PREDICTIONS}, got {prediction!r}")
        if swap_negatives and prediction != "bidirectional":
            raise ValueError(
                f"swap_negatives needs prediction='bidirectional' (a {prediction!r} target has no pair to swap); "
                "set swap_negatives=False"
            )
        if block_pooling not in BLOCK_POOLINGS:
            raise ValueError(f"block_pooling must be one of {BLOCK_POOLINGS}, got {block_pooling!r}")
        if pooling_grid < 1:
            raise ValueError(f"pooling_grid must be >= 1, got {pooling_grid}")
        if block_gap < 0:
            raise ValueError(f"block_gap must be >= 0, got {block_gap}")
        if loss_temperature <= 0:
            raise ValueError(f"loss_temperature must be > 0, got {loss_temperature}")
        self.prediction = prediction
        self.swap_negatives = swap_negatives
        self.block_pooling = block_pooling
        self.pooling_grid = pooling_grid
        self.block_gap = block_gap
        self.loss_temperature = loss_temperature
        self.projection_dim = projection_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.equivariance = equivariance_settings(equivariance)
        super().__init__(**kwargs)

    @property
    def views_per_video(self) -> int:
        """Pre-training clips per video: the past, present and future blocks, in that order."""
        return len(BLOCKS)

    @property
    def block_cells(self) -> int:
        """Feature vectors per block that the heads see, concatenated: pooling_grid^2 or 1."""
        return self.pooling_grid**2 if self.block_pooling == "grid" else 1

    @property
    def target_blocks(self) -> tuple[str, ...]:
        """The blocks the target embeds, in order: ("past", "future"), ("future",) or ("past",)."""
        return ("past", "future") if self.prediction == "bidirectional" else (self.prediction,)


BFP_PRESETS = {
    "bfp-r3d18": {"backbone": "r3d_18"},
    "bfp-r2plus1d18": {"backbone": "r2plus1d_18"},
    # On differences of consecutive frames: on RGB frames the tiny BFP stays at random-init level on SynthMotion's
    # motion classes; on differences its linear probe is above random init in every seed, paired +44.8 +- 14.7
    # points over 3 seeds (docs/results/frame_difference_more_methods.md).
    "bfp-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "num_frames": 8,
        "image_size": 32,
        "projection_hidden_dim": 128,
        "projection_dim": 64,
        # As TransRank's tiny recipe: on SynthMotion the order of time was learnt further without augmentation
        # (training order accuracy 0.71 vs 0.66 at 2000 steps, one seed; docs/learning.md).
        "augmentation": NO_AUGMENTATION,
    },
}
BFP_PRESETS.update(vit_presets(BFP_PRESETS, "bfp"))
