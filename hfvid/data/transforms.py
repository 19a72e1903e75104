"""Spatial transformations and clip-consistent augmentation of video clips (T x C x H x W tensors).

- ``rotate_clip(clip, degrees)``: exact rotation by one of ``ROTATIONS`` (3D-RotNet / TransRank task).
- ``change_aspect_ratio(clip, ratio)``: stretch the width by ``ratio``, same output size
  (TransRank aspect-ratio task; default classes ``ASPECT_RATIOS``).
- ``ClipAugmentation``: RandomResizedCrop + flip + colour jitter + grayscale, one random draw
  per call shared by all frames of the clip (training views); ``ClipColorJitter``: torchvision's
  ColorJitter, same random draws and results, about 6x faster on clips (see its docstring).
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


class ClipColorJitter(v2.ColorJitter):
    """``v2.ColorJitter`` with a faster kernel for RGB clips (and images), same random draws.

    Parameters are drawn by torchvision's own ``make_params``: a random order of the four
    adjustments per call, then the brightness, contrast, saturation and hue factors, from torch's
    RNG, so a seed gives the same draws as ``v2.ColorJitter``. The adjustments are then applied in
    that order to one float32 copy of the whole clip (T x 3 x H x W at once), where torchvision
    converts to and from uint8 after every step and runs a 40-operation HSV round trip for the hue:

    - brightness, contrast (mean grey level per frame, as torchvision), saturation: the very
      arithmetic of ``torchvision.transforms.v2.functional.adjust_*`` (same operations in the same
      order, the grey image floored and every result clamped and truncated to integer levels as
      torchvision's uint8 round trips do): bit-identical to torchvision for uint8 and float32.
    - hue: an exact HSV hue rotation in closed form: value (max) and chroma (max - min) are kept and
      each channel is ``min + chroma * clamp(|u| - 1, 0, 1)``, ``u`` the hue in sixths of a turn
      plus the shift plus the channel's offset, wrapped to [-3, 3]; the hue itself is torchvision's
      (max channel r before g before b). It differs from torchvision's ``adjust_hue`` only by float
      rounding: on uint8 photos (scikit-image's astronaut, chelsea, coffee, ...; tested) at most 1
      level on under 0.05% of the values; a hue factor of 0 (or +-0.5) gives identical output.

    Inputs other than 3-channel uint8 or float tensors go to torchvision's kernels.
    """

    def transform(self, inpt, params):
        if (
            not isinstance(inpt, torch.Tensor)
            or not (inpt.dtype == torch.uint8 or inpt.is_floating_point())
            or inpt.ndim < 3
            or inpt.shape[-3] != 3
            or inpt.numel() == 0
        ):
            return super().transform(inpt, params)
        output = jitter_colors(
            inpt.as_subclass(torch.Tensor),
            params["fn_idx"].tolist(),
            params["brightness_factor"],
            params["contrast_factor"],
            params["saturation_factor"],
            params["hue_factor"],
        )
        return tv_tensors.wrap(output, like=inpt) if isinstance(inpt, tv_tensors.TVTensor) else output


def jitter_colors(
    clip: torch.Tensor,
    order: Sequence[int],
    brightness: float | None = None,
    contrast: float | None = None,
    saturation: float | None = None,
    hue: float | None = None,
) -> torch.Tensor:
    """Apply ColorJitter's adjustments to a ... x 3 x H x W clip in ``order`` (0 brightness,
    1 contrast, 2 saturation, 3 hue; ``None`` factors are skipped), as torchvision's
    ``adjust_brightness`` / ``adjust_contrast`` / ``adjust_saturation`` / ``adjust_hue`` in turn would,
    with one float copy of the clip; uint8 or float in [0, 1], same dtype out (see `ClipColorJitter`)."""
    if not (clip.dtype == torch.uint8 or clip.is_floating_point()) or clip.ndim < 3 or clip.shape[-3] != 3:
        raise ValueError(
            f"expected a uint8 or float ... x 3 x H x W clip, got {clip.dtype} of shape {tuple(clip.shape)}"
        )
    quantize = not clip.is_floating_point()  # integer levels between steps, as torchvision's uint8 round trips
    bound = 255.0 if quantize else 1.0
    x = clip.to(torch.float32 if quantize else clip.dtype, copy=True)
    for step in order:
        if step == 0 and brightness is not None:
            x.mul_(brightness).clamp_(0, bound)
        elif step == 1 and contrast is not None:
            mean = _grayscale(x, quantize).mean(dim=(-3, -2, -1), keepdim=True)
            x.mul_(contrast).add_(mean, alpha=1 - contrast).clamp_(0, bound)
        elif step == 2 and saturation is not None:
            gray = _grayscale(x, quantize)
            x.mul_(saturation).add_(gray, alpha=1 - saturation).clamp_(0, bound)
        elif step == 3 and hue is not None:
            if not -0.5 <= hue <= 0.5:
                raise ValueError(f"hue factor must be in [-0.5, 0.5], got {hue}")
            x = _shift_hue(x, hue, bound, quantize)
        else:
            continue
        if quantize:
            x.floor_()  # >= 0 here, so torchvision's truncating conversion; floor_ is much faster than trunc_
    # float -> int32 -> uint8 is 2x faster than float -> uint8 in torch's CPU kernels (values are exact integers)
    return x.to(torch.int32).to(clip.dtype) if quantize else x


def _grayscale(x: torch.Tensor, quantize: bool) -> torch.Tensor:
    """torchvision's luma (0.2989 R + 0.587 G + 0.114 B, same operations), floored for integer clips."""
    r, g, b = x.unbind(dim=-3)
    gray = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze_(-3)
    return gray.floor_() if quantize else gray


# torchvision's float -> uint8 conversion multiplies by 255.999 and truncates: levels here are 0..255
_TO_UINT8_LEVELS = 255.999 / 255


def _shift_hue(x: torch.Tensor, hue_factor: float, bound: float, quantize: bool) -> torch.Tensor:
    """HSV hue rotation by ``hue_factor`` turns of a ... x 3 x H x W float tensor in [0, bound].

    HSV keeps max and min; channel k with offset n_k (R 5, G 3, B 1) becomes
    ``max - C * clamp(min(t, 4 - t), 0, 1)`` with ``t = (n_k + h6) mod 6`` (h6: the hue in sixths),
    which is ``min + C * clamp(|u| - 1, 0, 1)`` with ``u = h6 + n_k - 2`` wrapped to [-3, 3].
    Only fast elementwise operations (no comparisons, where, remainder or aminmax, which are 5-50x
    slower per element in torch's CPU kernels); the channel masks come from ``sign``.
    """
    r, g, b = x.unbind(dim=-3)
    maxc = torch.maximum(torch.maximum(r, g), b)
    minc = torch.minimum(torch.minimum(r, g), b)
    chroma = maxc - minc
    not_r = torch.sign(maxc - r)  # 1 where r is not the maximum, else 0 (torchvision: r wins ties, then g)
    is_b = torch.sign(maxc - g).mul_(not_r)  # neither r nor g: b
    # h6 = (g - b) / C where r is the max, 2 + (b - r) / C where g, 4 + (r - g) / C where b; in [-1, 5)
    two_chroma = chroma * 2
    hue = g - b
    hue.addcmul_(not_r, (b * 2).sub_(r).sub_(g).add_(two_chroma))  # (2 + (b - r) / C) * C - (g - b)
    hue.addcmul_(is_b, (r * 2).sub_(g).sub_(b).add_(two_chroma))  # (4 + (r - g) / C) * C - (2 + (b - r) / C) * C
    hue.div_(chroma.clamp(min=torch.finfo(x.dtype).tiny))  # grey (C = 0): numerators are 0 too
    shift = 6 * hue_factor
    offsets = torch.tensor([3.0 + shift, 1.0 + shift, -1.0 + shift], dtype=x.dtype).view(3, 1, 1)
    u = hue.unsqueeze(-3) + offsets
    u.add_(torch.mul(u, 1 / 6).round_(), alpha=-6)  # wrapped to [-3, 3]
    u.abs_().sub_(1).clamp_(0, 1)
    if quantize:  # torchvision's conversion to uint8 levels, folded into the planes
        chroma.mul_(_TO_UINT8_LEVELS)
        minc.mul_(_TO_UINT8_LEVELS)
    u.mul_(chroma.unsqueeze_(-3)).add_(minc.unsqueeze_(-3))
    return u.clamp_(0, bound)


class ClipAugmentation(torch.nn.Module):
    """Training augmentation with one random draw per clip: every frame gets the same crop,
    flip, colour jitter and grayscale decision, so motion stays intact; each call draws anew.

    Input T x C x H x W (uint8 or float in [0, 1]); output T x C x ``size`` x ``size``, same dtype.
    ``color_jitter`` is (brightness, contrast, saturation, hue), or ``None`` to disable it: torchvision's
    ColorJitter (random order of the four adjustments and random factors per clip) through
    `ClipColorJitter`, same draws and results, faster. The crop is resized first, so colour work runs
    at the output size; all random draws come from torch's RNG (``torch.manual_seed`` repeats them).
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
            steps.append(v2.RandomApply([ClipColorJitter(*color_jitter)], p=color_jitter_p))
        steps.append(RandomClipGrayscale(grayscale_p))
        self.transform = v2.Compose(steps)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        _check_clip(clip, channels=3)
        return self.transform(tv_tensors.Video(clip)).as_subclass(torch.Tensor)

    def together(self, clips: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Several clips of one video (each T_i x C x H x W, same H and W) under ONE draw: the same crop, flip and
        colours for all, so that they differ only by their frames."""
        return list(self(torch.cat(list(clips))).split([len(clip) for clip in clips]))


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
