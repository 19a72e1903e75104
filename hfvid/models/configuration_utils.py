"""Config fields that hfvid models share: the backbone and clip geometry of every model, and the view
layout and projection head of the multi-view (contrastive and predictive) methods."""

from __future__ import annotations

from transformers import PreTrainedConfig

from hfvid.backbones.registry import backbone_config
from hfvid.data.sampling import GAP_DISTRIBUTIONS
from hfvid.data.transformations import parse_transformation

AUGMENTATION_FIELDS = ("crop_scale", "flip_p", "color_jitter", "color_jitter_p", "grayscale_p")
# The tiny presets' pre-training augmentation: none (whole frames, no flip, no colour changes). On SynthMotion's motion
# labels the tiny backbone learnt more without augmentation (docs/learning.md).
NO_AUGMENTATION = {"crop_scale": [1.0, 1.0], "flip_p": 0.0, "color_jitter_p": 0.0, "grayscale_p": 0.0}
EQUIVARIANCE_DEFAULTS = {
    "transformations": ["1x", "2x", "reverse"],
    "weight": 0.4,
    "loss": "rank",
    "margin": 1.0,
    "image_size": None,
    "head_hidden_dim": None,
}
EQUIVARIANCE_LOSSES = ("rank", "cls")


def equivariance_settings(equivariance: dict | None) -> dict | None:
    """E-SSL's equivariance term (Dangovski et al., ICLR 2022), as an option of the embedding methods: the given
    settings completed with `EQUIVARIANCE_DEFAULTS` and checked, or None (no term).

    - ``transformations``: one extra clip per name (hfvid's vocabulary, `hfvid.data.transformations`: speeds,
      ``reverse``, rotations, ...), in this order; the model must tell which clip carries which.
    - ``weight``: the term's weight in the loss (0.4 in E-SSL's official SimCLR code).
    - ``loss``: ``"rank"`` (TransRank's margin ranking loss over a video's clips) or ``"cls"`` (cross-entropy, as
      E-SSL), with ``margin`` for the ranking loss.
    - ``image_size``: side of the extra clips (None: the model's ``image_size``; E-SSL uses smaller crops, which
      here would shrink the motion the clips carry).
    - ``head_hidden_dim``: hidden width of the head Linear-BN-ReLU-Linear (None: ``projection_hidden_dim``).
    """
    if equivariance is None:
        return None
    unknown = sorted(set(equivariance) - set(EQUIVARIANCE_DEFAULTS))
    if unknown:
        raise ValueError(f"equivariance: unknown fields {unknown}; valid: {sorted(EQUIVARIANCE_DEFAULTS)}")
    settings = {**EQUIVARIANCE_DEFAULTS, **equivariance}
    settings["transformations"] = list(settings["transformations"])
    if len(settings["transformations"]) < 2 or len(set(settings["transformations"])) != len(settings["transformations"]):
        raise ValueError(f"equivariance needs 2 or more different transformations, got {settings['transformations']}")
    for name in settings["transformations"]:
        parse_transformation(name)
    if settings["loss"] not in EQUIVARIANCE_LOSSES:
        raise ValueError(f"equivariance loss must be one of {EQUIVARIANCE_LOSSES}, got {settings['loss']!r}")
    if settings["weight"] < 0:
        raise ValueError(f"equivariance weight must be >= 0, got {settings['weight']}")
    return settings


def checked_augmentation(augmentation: dict | None) -> dict:
    """A config's ``augmentation`` settings as a new dict; ValueError naming fields the video processor lacks."""
    unknown = sorted(set(augmentation or {}) - set(AUGMENTATION_FIELDS))
    if unknown:
        raise ValueError(f"augmentation: unknown fields {unknown}; valid: {AUGMENTATION_FIELDS}")
    return dict(augmentation or {})


def check_momentum(momentum: float) -> None:
    """A momentum (EMA) factor must be in [0, 1)."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")


class HfvidConfig(PreTrainedConfig):
    r"""Fields of every hfvid model. A method's config class also names the method for model cards
    (``method_name``, e.g. "MoCo"; a property where the name depends on the config, as TransRank's TransCls).

    Args:
        backbone (`str` or `dict`, defaults to `"r3d_18"`):
            A backbone preset name (`r3d_18`, `r2plus1d_18`, `r3d_tiny`, `r2plus1d_tiny`, `r3d_tiny_diff`,
            `r2plus1d_tiny_diff` (on differences of consecutive frames), `vit_tiny`, `vit_s`, `vit_b`, `framewise_r18`,
            `framewise_tiny`) or a backbone config dict (`hfvid.backbones.registry`).
        num_frames (`int`, defaults to 16):
            Frames per clip.
        image_size (`int`, defaults to 112):
            Height and width of a clip after augmentation.
        classifier_dropout (`float`, defaults to 0.5):
            Dropout before the classifier of the `...ForVideoClassification` model.
        augmentation (`dict`, *optional*):
            Pre-training augmentation settings of the method's video processor that differ from its defaults
            (`crop_scale`, `flip_p`, `color_jitter`, `color_jitter_p`, `grayscale_p`), e.g. `{"flip_p": 0.0}`;
            `processor_for_config` applies them, so a preset carries its whole recipe.
    """

    method_name = "hfvid"

    def __init__(
        self,
        backbone: str | dict = "r3d_18",
        num_frames: int = 16,
        image_size: int = 112,
        classifier_dropout: float = 0.5,
        augmentation: dict | None = None,
        **kwargs,
    ):
        self.augmentation = checked_augmentation(augmentation)
        self.backbone = backbone_config(backbone)
        self.num_frames = num_frames
        self.image_size = image_size
        self.classifier_dropout = classifier_dropout
        super().__init__(**kwargs)


class MultiViewConfig(HfvidConfig):
    r"""Fields of the methods that compare several views of a video (MoCo, SimCLR, BYOL, SimSiam, RINCE).

    Args:
        clips_per_video (`int`, defaults to 2):
            Clips taken from different times of each video.
        views_per_clip (`int`, defaults to 1):
            Independent augmentations of each clip.
        gap_distribution (`str`, defaults to `"decreasing"`):
            How far apart a video's clips start: `"decreasing"` (CVRL's temporally consistent sampling, nearby
            clips likelier) or `"uniform"` (every gap equally likely); see `hfvid.data.sampling.nearby_clips`.
        projection_dim (`int`, defaults to 128):
            Size of the embedding the loss compares.
        projection_hidden_dim (`int`, defaults to 2048):
            Hidden width of the projection MLP (Linear-BN-ReLU-Linear).
        equivariance (`dict`, *optional*):
            E-SSL's equivariance term on top of the method's loss: extra clips of each video, one per
            transformation, whose transformations a head must tell apart from backbone features, e.g.
            `{"transformations": ["1x", "2x", "reverse"], "weight": 0.4}`; see `equivariance_settings`.
        kwargs: the fields of `HfvidConfig`.

    A method that compares a fixed number of views per video sets ``required_views``.
    """

    required_views: int | None = None

    def __init__(
        self,
        clips_per_video: int = 2,
        views_per_clip: int = 1,
        gap_distribution: str = "decreasing",
        projection_dim: int = 128,
        projection_hidden_dim: int = 2048,
        equivariance: dict | None = None,
        **kwargs,
    ):
        if gap_distribution not in GAP_DISTRIBUTIONS:
            raise ValueError(f"gap_distribution must be one of {GAP_DISTRIBUTIONS}, got {gap_distribution!r}")
        if clips_per_video < 1 or views_per_clip < 1 or clips_per_video * views_per_clip < 2:
            raise ValueError(
                f"need at least two views per video, got clips_per_video={clips_per_video}, "
                f"views_per_clip={views_per_clip}"
            )
        self.clips_per_video = clips_per_video
        self.views_per_clip = views_per_clip
        self.gap_distribution = gap_distribution
        self.projection_dim = projection_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.equivariance = equivariance_settings(equivariance)
        super().__init__(**kwargs)
        if self.required_views is not None and self.views_per_video != self.required_views:
            raise ValueError(
                f"{self.method_name} compares {self.required_views} views per video, got clips_per_video="
                f"{clips_per_video} x views_per_clip={views_per_clip}"
            )

    @property
    def views_per_video(self) -> int:
        """Model inputs per video: clips_per_video x views_per_clip, laid out clip after clip."""
        return self.clips_per_video * self.views_per_clip


def vit_presets(presets: dict[str, dict], method: str) -> dict[str, dict]:
    """The video-ViT presets of a method, made from its R3D-18 ones: ``<method>-vit-tiny`` is
    ``<method>-r3d18-tiny`` with the ``vit_tiny`` backbone (same clips, 32 px, 8 frames); ``<method>-vit-s`` and
    ``-vit-b`` are ``<method>-r3d18`` with ``vit_s`` / ``vit_b`` at 224 px and 16 frames, the ViTs' own size."""
    return {
        f"{method}-vit-tiny": {**presets[f"{method}-r3d18-tiny"], "backbone": "vit_tiny"},
        f"{method}-vit-s": {**presets[f"{method}-r3d18"], "backbone": "vit_s", "image_size": 224, "num_frames": 16},
        f"{method}-vit-b": {**presets[f"{method}-r3d18"], "backbone": "vit_b", "image_size": 224, "num_frames": 16},
    }

