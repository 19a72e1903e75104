"""BraVe model configuration."""

from __future__ import annotations

from hfvid.backbones.registry import backbone_config
from hfvid.models.configuration_utils import NO_AUGMENTATION, HfvidConfig, equivariance_settings, vit_presets

BROAD_INPUTS = ("rgb", "frame_difference")
NARROW_POSITIONS = ("start", "random")


class BraVeConfig(HfvidConfig):
    r"""Configuration of a BraVe model (Recasens et al., ICCV 2021): a narrow view (a short clip at full resolution)
    and a broad view (a long clip at lower resolution that contains it) of each video, each through its own
    backbone; a shared projector and predictor; each view's prediction regresses the other view's projection
    (1 - cosine, stop-gradient on the target), in both directions. No negatives, no momentum encoder (as BraVe's
    public code). ``backbone``, ``num_frames`` and ``image_size`` describe the narrow view, the one evaluated and
    returned by `AutoModel`.

    Args:
        frame_step (`int`, defaults to 1):
            Source frames between the narrow view's frames. BraVe's code uses 2; hfvid evaluates 1x clips, so the
            default trains the narrow view at 1x too (our choice).
        broad_num_frames (`int`, defaults to 64):
            Frames of the broad view (BraVe: 64).
        broad_frame_step (`int`, defaults to 4):
            Source frames between the broad view's frames (BraVe: 4).
        broad_image_size (`int`, *optional*):
            Side of the broad view (BraVe: half the narrow view's; None: ``image_size // 2``).
        broad_backbone (`str` or `dict`, *optional*):
            The broad view's backbone (None: the same architecture as ``backbone``, with its own weights). Its
            feature size must equal the narrow backbone's: the projector and predictor are shared.
        broad_input (`str`, defaults to `"rgb"`):
            `"rgb"`, or `"frame_difference"`: the broad view as differences of consecutive (normalised) frames, a
            cheap motion modality (BraVe's paper uses optical flow or audio as other broad modalities; the code
            ships audio).
        narrow_position (`str`, defaults to `"start"`):
            `"start"`: the narrow view starts with the broad view (BraVe's code); `"random"`: anywhere inside it.
        projection_dim (`int`, defaults to 128), projection_hidden_dim (`int`, defaults to 4096),
        predictor_hidden_dim (`int`, defaults to 4096):
            The shared projector Linear-BN-ReLU-Linear-BN and predictor Linear-BN-ReLU-Linear (BraVe's sizes; the
            projector's last BatchNorm has no affine parameters, our choice).
        equivariance (`dict`, *optional*):
            E-SSL's equivariance term on the narrow backbone (`hfvid.models.configuration_utils.equivariance_settings`).
        kwargs: the fields of `HfvidConfig`.

    Each view gets its own augmentation draw (BraVe's code; RandConv and blur on the broad view are left out).
    """

    method_name = "BraVe"
    model_type = "brave"

    def __init__(
        self,
        frame_step: int = 1,
        broad_num_frames: int = 64,
        broad_frame_step: int = 4,
        broad_image_size: int | None = None,
        broad_backbone: str | dict | None = None,
        broad_input: str = "rgb",
        narrow_position: str = "start",
        projection_dim: int = 128,
        projection_hidden_dim: int = 4096,
        predictor_hidden_dim: int = 4096,
        equivariance: dict | None = None,
        **kwargs,
    ):
        if broad_input not in BROAD_INPUTS:
            raise ValueError(f"broad_input must be one of {BROAD_INPUTS}, got {broad_input!r}")
        if narrow_position not in NARROW_POSITIONS:
            raise ValueError(f"narrow_position must be one of {NARROW_POSITIONS}, got {narrow_position!r}")
        for name, value in (("frame_step", frame_step), ("broad_num_frames", broad_num_frames), ("broad_frame_step", broad_frame_step)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.frame_step = frame_step
        self.broad_num_frames = broad_num_frames
        self.broad_frame_step = broad_frame_step
        self.broad_input = broad_input
        self.narrow_position = narrow_position
        self.projection_dim = projection_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.predictor_hidden_dim = predictor_hidden_dim
        self.equivariance = equivariance_settings(equivariance)
        super().__init__(**kwargs)
        self.broad_image_size = broad_image_size or self.image_size // 2
        self.broad_backbone = backbone_config(broad_backbone) if broad_backbone is not None else dict(self.backbone)
        narrow_span = (self.num_frames - 1) * frame_step + 1
        broad_span = (broad_num_frames - 1) * broad_frame_step + 1
        if narrow_span > broad_span:
            raise ValueError(
                f"the narrow view ({self.num_frames} frames, step {frame_step}: {narrow_span} source frames) must fit "
                f"in the broad view ({broad_num_frames} frames, step {broad_frame_step}: {broad_span})"
            )


BRAVE_PRESETS = {
    "brave-r3d18": {"backbone": "r3d_18"},
    "brave-r2plus1d18": {"backbone": "r2plus1d_18"},
    # CPU size: SynthMotion's 32-frame videos hold a 16-frame broad view at step 2; at 32 px the broad view keeps the
    # narrow view's resolution (halving it would leave the tiny network a 16-px motion).
    # On differences of consecutive frames (the broad backbone copies the narrow one's): on RGB frames the tiny
    # BraVe stays at random-init level on SynthMotion's motion classes. Meant for 32 videos a step (--batch_size 32,
    # 500 steps): there its linear probe is above random init in every seed, paired +24.5 +- 13.8 points over 3
    # seeds (docs/results/brave_batch32.md); at 8 in 2 seeds of 3 under session 17's data order
    # (docs/results/ssl_methods_s19.md).
    "brave-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "num_frames": 8,
        "image_size": 32,
        "broad_num_frames": 16,
        "broad_frame_step": 2,
        "broad_image_size": 32,
        "projection_dim": 64,
        "projection_hidden_dim": 128,
        "predictor_hidden_dim": 128,
        "augmentation": NO_AUGMENTATION,
    },
}
BRAVE_PRESETS.update(vit_presets(BRAVE_PRESETS, "brave"))
