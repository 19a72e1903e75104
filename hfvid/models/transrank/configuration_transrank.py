"""TransRank model configuration."""

from __future__ import annotations

import copy

from hfvid.data.transformations import parse_transformation
from hfvid.models.configuration_utils import NO_AUGMENTATION, HfvidConfig, vit_presets

DEFAULT_TASKS = [
    {"name": "temporal", "transformations": ["1x", "2x", "reverse"], "weight": 1.0},
    {"name": "spatial", "transformations": ["rot0", "rot90", "rot180", "rot270"], "weight": 1.0},
]
LOSSES = ("rank", "cls")
HEADS = ("mlp", "fc")


class TransRankConfig(HfvidConfig):
    r"""Configuration of a TransRank model (and of TransCls and the RecogTrans baselines, which differ only
    in their transformation tasks and loss).

    Each video is seen through one clip per transformation of each task; a task has its own head that
    scores every clip on each of the task's transformations, giving an N x N score matrix per video.

    Args:
        tasks (`list[dict]`, *optional*):
            Transformation tasks, each `{"name": str, "transformations": [str, ...], "weight": float}`. A
            transformation is temporal (`1x`, `2x`, `4x`, `8x`, `0.5x`, `reverse`, `palindrome`, `shuffle`,
            `warp`), spatial (`rot0`/`rot90`/`rot180`/`rot270`, `aspect0.5`/`aspect1`/`aspect2`), or both
            joined by `+` (e.g. `2x+rot90`). Defaults to TransRank's 1x/2x/reverse temporal task plus the
            4-way rotation task; the total loss is the weighted sum of the task losses (weight 1.0 for the
            spatial task is our choice: the paper does not give lambda).
        loss (`str`, defaults to `"rank"`):
            `"rank"`: TransRank's margin ranking loss over the clips of a video; `"cls"`: cross-entropy on
            each clip (TransCls and RecogTrans).
        margin (`float`, defaults to 1.0):
            Margin of the ranking loss (our choice; the paper does not state it).
        head (`str`, defaults to `"mlp"`):
            `"mlp"` (Linear-BN-ReLU-Linear, TransRank's choice) or `"fc"` (one linear layer).
        head_hidden_dim (`int`, defaults to 512):
            Hidden width of the MLP head.
        speed_jitter (`tuple[float, float]` or `None`, defaults to `(0.8, 1.2)`):
            Each clip's playback speed is multiplied by a factor drawn from this range.
        shared_augmentation (`bool`, defaults to `False`):
            `False`: each clip gets its own augmentation draw (crop, flip, colour), as in the paper; `True`: all
            clips of a video share one draw, so they differ only by their transformations (per-clip crops
            rescale apparent speed by up to 2x, which kept the tiny backbone's speed task at chance on
            SynthMotion; see docs/learning.md. The tiny presets go further and pre-train without augmentation).
        kwargs: the fields of `HfvidConfig` (backbone, num_frames, image_size, classifier_dropout, augmentation).
    """

    model_type = "transrank"

    @property
    def method_name(self) -> str:
        """TransRank, or TransCls when the transformations are classified instead of ranked."""
        return "TransCls" if self.loss == "cls" else "TransRank"

    def __init__(
        self,
        tasks: list[dict] | None = None,
        loss: str = "rank",
        margin: float = 1.0,
        head: str = "mlp",
        head_hidden_dim: int = 512,
        speed_jitter: tuple[float, float] | list[float] | None = (0.8, 1.2),
        shared_augmentation: bool = False,
        **kwargs,
    ):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        tasks = copy.deepcopy(DEFAULT_TASKS if tasks is None else tasks)
        for task in tasks:
            if len(task.get("transformations", ())) < 2:
                raise ValueError(f"task {task.get('name')!r} needs at least two transformations, got {task}")
            for name in task["transformations"]:
                parse_transformation(name)
            task.setdefault("weight", 1.0)
        self.tasks = tasks
        self.loss = loss
        self.margin = margin
        self.head = head
        self.head_hidden_dim = head_hidden_dim
        self.speed_jitter = list(speed_jitter) if speed_jitter is not None else None
        self.shared_augmentation = shared_augmentation
        super().__init__(**kwargs)

    @property
    def transformations(self) -> list[str]:
        """Every clip's transformation, in the order clips are laid out (task after task)."""
        return [name for task in self.tasks for name in task["transformations"]]


TRANSRANK_PRESETS = {
    "transrank-r3d18": {"backbone": "r3d_18"},
    "transrank-r2plus1d18": {"backbone": "r2plus1d_18"},
    "transcls-r3d18": {"backbone": "r3d_18", "loss": "cls"},
    "speednet-r3d18": {
        "backbone": "r3d_18",
        "loss": "cls",
        "tasks": [{"name": "speed", "transformations": ["1x", "2x"]}],
    },
    "rotnet3d-r3d18": {
        "backbone": "r3d_18",
        "loss": "cls",
        "tasks": [{"name": "rotation", "transformations": ["rot0", "rot90", "rot180", "rot270"]}],
    },
    "rtt-r3d18": {
        "backbone": "r3d_18",
        "loss": "cls",
        "tasks": [
            {"name": "speed", "transformations": ["1x", "2x", "4x", "8x"]},
            {"name": "transformation", "transformations": ["1x", "palindrome", "shuffle", "warp"]},
        ],
    },
    "pace-r3d18": {
        "backbone": "r3d_18",
        "loss": "cls",
        "tasks": [{"name": "pace", "transformations": ["1x", "2x", "3x", "4x"]}],
    },
}
TINY_OVERRIDES = {"num_frames": 8, "image_size": 32, "head_hidden_dim": 64}
# The CPU-sized recipe, measured in docs/learning.md: at 64 features the rotation task fills the features with
# appearance and keeps the motion probe at random-init level, and per-clip augmentation or speed jitter keeps
# 1x-vs-2x at chance for most of a CPU budget. So TransRank and TransCls rank the temporal task alone, on clips
# without augmentation or speed jitter, and the backbone sees differences of consecutive frames (`r3d_tiny_diff`):
# on RGB frames the tiny network waits 400-1000 steps (by seed) before it ranks the speeds, on frame differences it
# ranks them within 100 and its motion features reach about twice the linear probe (docs/learning.md). The
# full-size presets keep the paper's recipe.
TINY_TEMPORAL_RECIPE = {
    "tasks": [{"name": "temporal", "transformations": ["1x", "2x", "reverse"]}],
    "speed_jitter": None,
    "augmentation": NO_AUGMENTATION,
    "backbone": "r3d_tiny_diff",
}
TRANSRANK_PRESETS.update(
    {
        f"{name}-tiny": {
            **kwargs,
            **TINY_OVERRIDES,
            "backbone": kwargs["backbone"].replace("_18", "_tiny"),
            **(TINY_TEMPORAL_RECIPE if name in ("transrank-r3d18", "transcls-r3d18") else {}),
        }
        for name, kwargs in list(TRANSRANK_PRESETS.items())
    }
)
TRANSRANK_PRESETS.update(vit_presets(TRANSRANK_PRESETS, "transrank"))
