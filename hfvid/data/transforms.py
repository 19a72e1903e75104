"""Spatial transformations and clip-consistent augmentation of video clips (T x C x H x W tensors).

- ``rotate_clip(clip, degrees)``: exact rotation by one of ``ROTATIONS`` (3D-RotNet / TransRank task).
- ``change_aspect_ratio(clip, ratio)``: stretch the width by ``ratio``, same output size
  (TransRank aspect-ratio task; default classes ``ASPECT_RATIOS``).
- ``ClipAugmentation``: RandomResizedCrop + flip + colour jitter + grayscale, one random draw
  per call shared by all frames of the clip (training views).
- ``resize_short_side``, ``center_crop``, ``EvalTransform``: deterministic evaluation resizing.
- ``normalize(clip, mean, std)``: uint8/float clip to a normalised float clip
  (``KINETICS_MEAN`` / ``KINETICS_STD``: torchvision video models' statistics).

Clips are uint8 (0..255) or float (0..1); every function keeps the dtype except ``normalize``.
Augmentation wraps clips as ``torchvision.tv_tensors.Video`` so that torchvision.transforms.v2
draws its random parameters once per clip, not once per frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

ROTATIONS = (0, 90, 180, 270)
# Our choice: squeeze, keep, stretch (TransRank names the task, not its classes).
ASPECT_RATIOS = (0.5, 1.0, 2.0)
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


def rotate_clip(clip: torch.Tensor, degrees: int) -> torch.Tensor:
    """Rotate every frame by ``degrees`` counter-clockwise (as displayed, row 0 on top).

    Exact (``torch.rot90`` on the H, W dims, no interpolation); 90 and 270 swap H and W, so
    rotation tasks use square clips.
    """
    if degrees not in ROTATIONS:
        raise ValueError(f"degrees must be one of {ROTATIONS}, got {degrees!r}")
    return torch.rot90(clip, k=degrees // 90, dims=(-2, -1))


def change_aspect_ratio(clip: torch.Tensor, ratio: float) -> torch.Tensor:
    """Stretch the content's width by ``ratio`` relative to its height, keeping the H x W size.

    ``ratio > 1`` enlarges the width by ``ratio``; ``ratio < 1`` enlarges the height by
    ``1 / ratio`` instead. Either way one side is upscaled and the centre is cropped back to
    H x W, so the output is filled with content (no padding). ``ratio == 1`` is the identity.
    """
    if not ratio > 0:
        raise ValueError(f"ratio must be > 0, got {ratio!r}")
    if ratio == 1:
        return clip
    height, width = clip.shape[-2:]
    stretched_size = [height, round(width * ratio)] if ratio > 1 else [round(height / ratio), width]
    stretched = F.resize(clip, stretched_size, antialias=True)
    return F.center_crop(stretched, [height, width])


class RandomClipGrayscale(v2.RandomGrayscale):
    """``v2.RandomGrayscale`` that also converts ``Video`` inputs.

    torchvision (up to at least 0.29) registers no Video kernel for ``rgb_to_grayscale`` and
    silently returns videos unchanged; this applies the image kernel to all frames instead.
    """

    def transform(self, inpt, params):
        if isinstance(inpt, tv_tensors.Video):
            gray = F.rgb_to_grayscale(inpt.as_subclass(torch.Tensor), num_output_channels=params["num_input_channels"])
            return tv_tensors.wrap(gray, like=inpt)
        return super().transform(inpt, params)


class ClipAugmentation(torch.nn.Module):
    """Training augmentation with one random draw per clip: every frame gets the same crop,
    flip, colour jitter and grayscale decision, so motion stays intact; each call draws anew.

    Input T x C x H x W (uint8 or float in [0, 1]); output T x C x ``size`` x ``size``, same dtype.
    ``color_jitter`` is (brightness, contrast, saturation, hue), or ``None`` to disable it.
    """

    def __init__(
        self,
        size: int = 112,
        scale: tuple[float, float] = (0.2, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        flip_p: float = 0.5,
        color_jitter: tuple[float, float, float, float] | None = (0.4, 0.4, 0.4, 0.1),
        color_jitter_p: float = 0.8,
        grayscale_p: float = 0.2,
    ):
        super().__init__()
        steps = [v2.RandomResizedCrop(size, scale=scale, ratio=ratio, antialias=True), v2.RandomHorizontalFlip(flip_p)]
        if color_jitter is not None:
            steps.append(v2.RandomApply([v2.ColorJitter(*color_jitter)], p=color_jitter_p))
        steps.append(RandomClipGrayscale(grayscale_p))
        self.transform = v2.Compose(steps)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        _check_clip(clip, channels=3)
        return self.transform(tv_tensors.Video(clip)).as_subclass(torch.Tensor)


def resize_short_side(clip: torch.Tensor, size: int) -> torch.Tensor:
    """Resize so the shorter of H, W becomes ``size``, keeping the aspect ratio."""
    return F.resize(clip, size, antialias=True)


def center_crop(clip: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size`` x ``size`` window of every frame."""
    return F.center_crop(clip, [size, size])


def normalize(
    clip: torch.Tensor, mean: Sequence[float] = KINETICS_MEAN, std: Sequence[float] = KINETICS_STD
) -> torch.Tensor:
    """Float clip ``(x - mean) / std`` per channel; uint8 input is first scaled to [0, 1]."""
    clip = F.to_dtype(clip, torch.float32, scale=True)
    return F.normalize(clip, mean=list(mean), std=list(std))


class EvalTransform(torch.nn.Module):
    """Deterministic evaluation view: resize the short side to ``resize_size``, centre-crop
    ``crop_size``. Keeps the dtype; ``normalize`` is a separate step shared with training.
    The default 128 -> 112 (ratio 8 / 7, as 256 -> 224 for images) is our choice."""

    def __init__(self, crop_size: int = 112, resize_size: int = 128):
        super().__init__()
        if resize_size < crop_size:
            raise ValueError(f"resize_size ({resize_size}) must be >= crop_size ({crop_size})")
        self.crop_size = crop_size
        self.resize_size = resize_size

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        _check_clip(clip)
        return center_crop(resize_short_side(clip, self.resize_size), self.crop_size)


def _check_clip(clip: torch.Tensor, channels: int | None = None) -> None:
    if clip.ndim != 4 or (channels is not None and clip.shape[1] != channels):
        expected = "T x C x H x W" if channels is None else f"T x {channels} x H x W"
        raise ValueError(f"expected a {expected} clip, got shape {tuple(clip.shape)}")
