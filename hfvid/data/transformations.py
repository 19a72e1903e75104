"""Named clip transformations, the vocabulary of transformation-recognition methods (TransRank & co.).

A name is temporal (how the clip's frames are picked: ``1x``, ``2x``, ``reverse``, ... and any
``<speed>x``), spatial (how its frames are changed: ``rot90``, ``aspect2``, ...) or both, joined by
``+`` (``2x+rot90``). A spatial-only name plays the clip at ``1x``.

    t = parse_transformation("reverse+rot90")
    indices = t.sample_indices(num_frames=300, clip_len=16, rng=np.random.default_rng(0))
    clip = t.apply_spatial(frames[indices])     # frames: T x C x H x W
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hfvid.data.sampling import TEMPORAL_TRANSFORMATIONS, is_temporal_transformation, temporal_transformation_clip
from hfvid.data.transforms import change_aspect_ratio, rotate_clip

ROTATION_NAMES = ("rot0", "rot90", "rot180", "rot270")
ASPECT_RATIO_NAMES = ("aspect0.5", "aspect1", "aspect2")
SPATIAL_TRANSFORMATIONS = ROTATION_NAMES + ASPECT_RATIO_NAMES


@dataclass(frozen=True)
class Transformation:
    """A parsed transformation name: ``temporal`` is a sampling name, ``spatial`` a spatial name or None."""

    name: str
    temporal: str
    spatial: str | None

    def sample_indices(
        self,
        num_frames: int,
        clip_len: int,
        rng: np.random.Generator,
        speed_jitter: tuple[float, float] | None = (0.8, 1.2),
        policy: str = "loop",
    ) -> np.ndarray:
        """Frame indices (clip_len,) of one clip of a ``num_frames``-frame video under this transformation."""
        return temporal_transformation_clip(
            self.temporal, num_frames, clip_len, rng, speed_jitter=speed_jitter, policy=policy
        )

    def apply_spatial(self, clip: torch.Tensor) -> torch.Tensor:
        """Apply the spatial part to a clip (T x C x H x W); identity when there is none."""
        if self.spatial is None:
            return clip
        if self.spatial.startswith("rot"):
            return rotate_clip(clip, int(self.spatial[3:]))
        return change_aspect_ratio(clip, float(self.spatial[6:]))


def parse_transformation(name: str) -> Transformation:
    """Parse ``temporal``, ``spatial`` or ``temporal+spatial``; raises ValueError naming the valid parts."""
    parts = name.split("+")
    temporal = [p for p in parts if is_temporal_transformation(p)]
    spatial = [p for p in parts if p in SPATIAL_TRANSFORMATIONS]
    if len(parts) > 2 or len(temporal) > 1 or len(spatial) > 1 or len(temporal) + len(spatial) != len(parts):
        raise ValueError(
            f"unknown transformation {name!r}: expected 'temporal', 'spatial' or 'temporal+spatial' with temporal in "
            f"{TEMPORAL_TRANSFORMATIONS} (or any '<speed>x') and spatial in {SPATIAL_TRANSFORMATIONS}"
        )
    return Transformation(name=name, temporal=temporal[0] if temporal else "1x", spatial=spatial[0] if spatial else None)
